# igr: the Snakemake pipeline that rebuilds the tables and figures of "Invertible Gaussian
# Reparameterization: Revisiting the Gumbel-Softmax" (NeurIPS 2020).
#
#   snakemake --cores all                          # default config: small, offline
#   snakemake --cores all --configfile config/paper.yaml
#   snakemake --report report.html                 # after a run
#
# Each stage is one rules/<stage>.smk; rules/common.smk is the glue to igr.pipeline, which
# computes every param; the config schema (defaults included) is
# workflow/schemas/config.schema.yaml.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"


validate_config(config, "workflow/schemas/config.schema.yaml")
export_data_dir()
pipeline = Pipeline(config)


report: "workflow/report/workflow.rst"


include: "rules/data.smk"
include: "rules/priors.smk"
include: "rules/temperatures.smk"
include: "rules/simplex_proximity.smk"
include: "rules/vae.smk"
include: "rules/approximations.smk"
include: "rules/sop.smk"


rule all:
    default_target: True
    input:
        pipeline.all_outputs(),
    localrule: True
