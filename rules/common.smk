"""Glue between Snakemake and igr.pipeline (TF-free, Snakemake-free, unit-tested there).

Validates the config (igr.pipeline.config), hands jobs the data folder through
$IGR_DATA_DIR (igr.pipeline.data), writes igr's bytecode before the first job
(igr.pipeline.bytecode), and makes the one ``pipeline`` object
(igr.pipeline.workflow.Pipeline) whose methods give every rule its params, inputs and
outputs; paths live in igr.pipeline.paths, family lists in igr.families.
"""

import json
import os
from shlex import quote as shell_quote

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from igr.data.registry import DATASETS
from igr.families import wildcard_pattern
from igr.pipeline import paths
from igr.pipeline.bytecode import compile_igr
from igr.pipeline.config import (
    duplicate_key_problems,
    invalid_config_message,
    schema_problems,
    semantic_problems,
)
from igr.pipeline.data import DATA_DIR_ENV_VAR, dataset_identity, pipeline_data_dir
from igr.pipeline.workflow import Pipeline

#: Conda environment of every rule (relative to the files in rules/).
CONDA_ENV = "../envs/igr.yaml"


def validate_config(config, schema):
    """Validate ``config`` strictly and fill in the schema's defaults; any problem raises a
    ``WorkflowError`` naming its key (or file and line) before any job is planned."""
    problems = duplicate_key_problems(workflow.configfiles)
    schema_path = os.path.join(workflow.basedir, schema)
    with open(schema_path) as handle:
        schema_document = yaml.safe_load(handle)
    problems = problems or schema_problems(config, schema_document)
    if not problems:
        validate(config, schema_path)  # fills in the defaults
        problems = semantic_problems(config)
    if problems:
        raise WorkflowError(invalid_config_message(problems))


def export_data_dir():
    """Jobs find the data folder through $IGR_DATA_DIR, never through params: moving it
    reruns nothing (igr.pipeline.data)."""
    os.environ[DATA_DIR_ENV_VAR] = str(pipeline_data_dir(config))


onstart:
    # once per run, not in dry-runs: every job then imports igr without compiling it
    compile_igr()
