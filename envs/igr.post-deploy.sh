#!/usr/bin/env bash
# Snakemake runs this once, inside the new conda environment, after creating it from
# igr.yaml, from the directory it was started in (the repository root, where
# pyproject.toml lives). Dependencies are pinned in igr.yaml, hence --no-deps.
set -euo pipefail
if [ ! -f pyproject.toml ]; then
    echo "igr.post-deploy.sh: run snakemake from the igr repository root" >&2
    exit 1
fi
python -m pip install --no-deps --no-build-isolation --editable .
