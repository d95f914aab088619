"""The family registry (igr.families) is the one list: every other list must agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from igr.families import FAMILIES, families_of_stage, get_family

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


def _property(*keys):
    node = SCHEMA["properties"]
    for key in keys[:-1]:
        node = node[key]["properties"]
    return node[keys[-1]]


def test_schema_enums_and_temperature_keys_are_the_registry_lists():
    assert tuple(SCHEMA["$defs"]["family"]["enum"]) == families_of_stage("priors")
    # the SOP adds the baselines ST-GS and ReinMax to the prior families: its own enum
    assert tuple(_property("sop", "families")["items"]["enum"]) == families_of_stage("sop")
    assert set(families_of_stage("priors")) < set(families_of_stage("sop"))
    assert tuple(_property("priors", "families")["default"]) == families_of_stage("priors")
    assert tuple(_property("simplex_proximity", "families")["items"]["enum"]) == families_of_stage(
        "simplex_proximity"
    )
    vae_items = _property("vae", "families")["items"]["enum"]
    assert tuple(vae_items) == families_of_stage("vae")
    grid = _property("vae", "extra_grids")["items"]["properties"]["families"]["items"]["enum"]
    assert tuple(grid) == families_of_stage("vae")
    assert tuple(_property("vae", "temperatures")["properties"]) == families_of_stage("vae")
    assert tuple(_property("sop", "temperatures")["properties"]) == families_of_stage("sop")


def test_python_lists_come_from_the_registry():
    from igr.experiments import priors, simplex_proximity, sop, vae
    from igr.experiments._common import FAMILY_SEED_OFFSETS
    from igr.models.latent import LATENT_FAMILIES
    from igr.models.sop import SOP_FAMILIES
    from igr.reporting import figures
    from igr.reporting import vae as vae_report
    from igr.reporting import sop as sop_report

    assert LATENT_FAMILIES == vae.FAMILIES == vae_report.FAMILY_ORDER == families_of_stage("vae")
    assert SOP_FAMILIES == sop.SOP_FAMILIES == sop_report.FAMILY_ORDER == families_of_stage("sop")
    assert priors.FAMILIES == families_of_stage("priors")
    assert simplex_proximity.FAMILIES == families_of_stage("simplex_proximity")
    assert FAMILY_SEED_OFFSETS == {name: f.seed_offset for name, f in FAMILIES.items()}
    assert len(set(FAMILY_SEED_OFFSETS.values())) == len(FAMILIES)  # independent streams
    assert figures.FAMILY_COLORS == {name: f.colour for name, f in FAMILIES.items()}
    assert vae_report.LABELS == {name: FAMILIES[name].label for name in families_of_stage("vae")}


def test_no_family_list_is_written_out_in_the_rules():
    """Wildcard constraints take the registry's lists (igr.families.wildcard_pattern)."""
    written_out = re.compile(r"\bgs\|igr_i")
    for path in [REPO_ROOT / "Snakefile", *(REPO_ROOT / "rules").glob("*.smk")]:
        assert not written_out.search(path.read_text()), path


def test_family_facts():
    assert get_family("igr_planar").prior_family == "igr_i"  # spec 1.4
    assert get_family("igr_planar").prior_file == "igr_planar"
    assert get_family("igr_sb_trunc").prior_file == "igr_sb" and get_family("igr_sb_trunc").truncated
    assert [n for n, f in FAMILIES.items() if f.exact_argmax] == ["gs", "igr_i", "st_gs", "reinmax"]
    assert get_family("gs").prior_length(10) == 10 and get_family("igr_sb").prior_length(10) == 9
    assert [n for n, f in FAMILIES.items() if f.igr] == [
        "igr_i", "igr_planar", "igr_sb", "igr_sb_trunc"
    ]


def test_baselines_read_the_gs_prior_and_use_the_categorical_kl():
    """ST-GS and ReinMax (issue 17): GS's prior file and relaxation (so a calibrated tau is
    GS's), one-hot forward values, the exact categorical KL; not in the priors stage."""
    from igr.families import FORWARDS, KLS

    for name, forward in (("st_gs", "st_gs"), ("reinmax", "reinmax")):
        family = get_family(name)
        assert (family.prior_file, family.prior_family, family.prior_parameters) == (
            "gs", "gs", ("logits",)
        )
        assert family.forward == forward and family.kl == "categorical" and family.exact_argmax
        assert set(family.stages) == {"temperatures", "vae", "sop"}
        assert "training" in family.xla  # XLA measured faster (README "Benchmarks")
        assert forward in FORWARDS
    assert {f.kl for n, f in FAMILIES.items() if n not in ("st_gs", "reinmax")} == {"relaxed"}
    assert set(KLS) == {"relaxed", "categorical"}
    assert get_family("st_gs").label == "ST-GS" and get_family("reinmax").label == "ReinMax"
    assert len({f.colour for f in FAMILIES.values()}) == len(FAMILIES)
    assert (get_family("st_gs").seed_offset, get_family("reinmax").seed_offset) == (5, 6)


def test_a_record_that_mixes_a_one_hot_forward_with_a_relaxed_kl_is_refused():
    from igr.families import Family

    with pytest.raises(ValueError, match="no relaxed density"):
        Family("x", "X", None, 9, "gs", "gs", ("logits",), True, ("vae",), forward="st_gs")
    with pytest.raises(ValueError, match="needs logits"):
        Family("x", "X", None, 9, "igr_i", "igr_i", ("loc", "scale"), True, ("vae",),
               kl="categorical")
    with pytest.raises(ValueError, match="forward 'hard'"):
        Family("x", "X", None, 9, "gs", "gs", ("logits",), True, ("vae",), forward="hard")


def test_tf_free_modules_import_neither_tensorflow_nor_snakemake():
    """The registry, the pipeline logic, run folders, SIGTERM handling and input checks."""
    code = (
        "import sys, igr.pipeline, igr.pipeline.config, igr.pipeline.data, "
        "igr.pipeline.paths, igr.pipeline.workflow, igr.families, igr.training.run_folder, "
        "igr.training.preemption, igr.experiments._inputs; "
        "print(sorted(m for m in ('tensorflow', 'snakemake') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_jit_auto_reads_the_measured_table_and_true_false_force_it():
    from igr.families import FAMILIES, XLA_PARTS, use_xla

    for name, family in FAMILIES.items():
        for part in XLA_PARTS:
            assert use_xla(name, part, "auto") == (part in family.xla)
            assert use_xla(name, part, "true") is use_xla(name, part, True) is True
            assert use_xla(name, part, "false") is use_xla(name, part, False) is False
    with pytest.raises(ValueError, match="jit setting must be one of auto, true, false"):
        use_xla("gs", "training", "yes")
    with pytest.raises(KeyError, match="unknown part"):
        use_xla("gs", "sampling")
