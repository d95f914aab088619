"""Helpers shared by every stage: config validation, output paths, resources, params.

Only functions live here (no rules); each stage has its own ``rules/<stage>.smk``.
"""

import os

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from igr.pipeline.config import (
    duplicate_key_problems,
    invalid_config_message,
    schema_problems,
    semantic_problems,
)
from igr.pipeline.data import DATA_DIR_ENV_VAR, dataset_identity, pipeline_data_dir

#: Conda environment of every rule (relative to the files in rules/).
CONDA_ENV = "../envs/igr.yaml"


# --------------------------------------------------------------------------- validation


def validate_config(config, schema):
    """Validate ``config`` strictly (igr.pipeline.config) and fill in the schema's defaults.

    Duplicate keys in the config files, schema violations (floats where integers are
    needed, non-finite numbers, values out of bounds) and cross-key problems each raise a
    ``WorkflowError`` naming the key, before any job is planned.
    """
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


# --------------------------------------------------------------------------- paths


def log_path(rule_name, name):
    """Log file of one job: ``logs/<rule>/<name>.log``."""
    return f"logs/{rule_name}/{name}.log"


def dataset_manifest(dataset="{dataset}"):
    """Record of a fetched, verified dataset: ``results/data/{dataset}.json``.

    Training rules list it as an input, so they run only after the data verified.
    """
    return f"results/data/{dataset}.json"


def export_data_dir():
    """Give every job the data directory through ``$IGR_DATA_DIR`` (igr.pipeline.data).

    It is never a param: moving the data folder reruns nothing; its content's identity
    (``fetch_data``'s params, the trainers' fingerprints) decides what reruns.
    """
    os.environ[DATA_DIR_ENV_VAR] = str(pipeline_data_dir(config))


def prior_path(family="{family}", num_categories="{K}"):
    """Prior file of a (family, K): ``results/priors/{family}_K{K}.json``.

    The VAE and SOP stages read exactly these files (spec section 2).
    """
    return f"results/priors/{family}_K{num_categories}.json"


def all_prior_paths():
    """Prior files of every family and K the ``priors`` section asks for."""
    section = config["priors"]
    return [
        prior_path(family, k)
        for k in sorted(section["num_categories"])
        for family in section["families"]
    ]


PRIORS_TABLE = "results/priors/priors_summary.csv"
PRIORS_FIGURE = "results/priors/argmax_laws.png"
SIMPLEX_PROXIMITY_TABLE = "results/simplex_proximity/distances.csv"
SIMPLEX_PROXIMITY_FIGURE = "results/simplex_proximity/distances.png"
SIMPLEX_PROXIMITY_CLAIMS = "results/simplex_proximity/claims.md"


def priors_outputs():
    """Everything the priors stage contributes to ``rule all``."""
    return all_prior_paths() + [PRIORS_TABLE, PRIORS_FIGURE]


def simplex_proximity_outputs():
    """Everything the simplex-proximity stage contributes to ``rule all``."""
    return [SIMPLEX_PROXIMITY_TABLE, SIMPLEX_PROXIMITY_FIGURE, SIMPLEX_PROXIMITY_CLAIMS]


# --------------------------------------------------------------------------- resources


def rule_resource(rule_name, key):
    """``resources.<rule>.<key>`` of the config, else ``resources.default.<key>``."""
    resources = config["resources"]
    return resources.get(rule_name, {}).get(key, resources["default"][key])


#: Cluster keys of a rule's config block -> resource names of the SLURM executor plugin.
SLURM_RESOURCE_NAMES = {
    "gpus": "gpu",
    "gpu_model": "gpu_model",
    "slurm_partition": "slurm_partition",
    "constraint": "constraint",
    "slurm_extra": "slurm_extra",
}


def rule_resources(rule_name):
    """The ``resources:`` of a rule's jobs, from its config block (see :func:`rule_resource`).

    Always ``mem_mb`` and ``runtime`` (minutes); the SLURM requests of
    :data:`SLURM_RESOURCE_NAMES` only when set (``gpus`` >= 1, other keys not null), so an
    unset partition keeps the profile's ``default-resources`` (slurm/config.yaml). Use as
    ``resources: **rule_resources("train_vae")``; a local run ignores the SLURM keys.
    """
    resources = {
        "mem_mb": rule_resource(rule_name, "mem_mb"),
        "runtime": rule_resource(rule_name, "runtime"),
    }
    for key, name in SLURM_RESOURCE_NAMES.items():
        value = rule_resource(rule_name, key)
        if value is not None and value != 0:
            resources[name] = value
    if "gpu" not in resources:
        resources.pop("gpu_model", None)
    return resources


# --------------------------------------------------------------------------- params


def cli_options(settings):
    """``{'num_steps': 200}`` -> ``--num-steps 200``, keys sorted (deterministic params)."""
    return " ".join(
        f"--{key.replace('_', '-')} {settings[key]}" for key in sorted(settings)
    )


def prior_options(family):
    """Hyper-parameters of ``igr learn-prior`` for ``family``, from ``priors.<family>``.

    IGR-Planar's prior is IGR-I's (spec 1.4), so it takes the ``priors.igr_i`` settings.
    """
    section = config["priors"]
    if family in ("igr_i", "igr_planar"):
        return cli_options(section["igr_i"])
    if family == "igr_sb":
        return cli_options(section["igr_sb"])
    return ""


def simplex_proximity_prior_inputs():
    """The IGR-I prior file the simplex-proximity job reads (if IGR-I is compared)."""
    section = config["simplex_proximity"]
    if "igr_i" in section["families"]:
        return {"igr_i_prior": prior_path("igr_i", section["num_categories"])}
    return {}


def simplex_proximity_prior_option():
    """``--igr-i-prior <file>`` when IGR-I is compared, else nothing."""
    inputs = simplex_proximity_prior_inputs()
    if inputs:
        return f"--igr-i-prior {inputs['igr_i_prior']}"
    return ""
