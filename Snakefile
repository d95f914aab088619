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

import os

from snakemake.utils import min_version

min_version("9.0")


# Relative to this file, so that `snakemake --directory elsewhere` finds it too.
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "rules/common.smk"


validate_config(config, "workflow/schemas/config.schema.yaml")
export_data_dir()
pipeline = Pipeline(config)
# Every output path below the config's results_dir (igr.pipeline.paths.OutputPaths).
paths = pipeline.paths


# The first page: the claims at a glance once rule report_pages has run (igr.pipeline).
report: pipeline.report_landing(workflow.basedir)


include: "rules/data.smk"
include: "rules/priors.smk"
include: "rules/temperatures.smk"
include: "rules/simplex_proximity.smk"
include: "rules/vae.smk"
include: "rules/approximations.smk"
include: "rules/sop.smk"
include: "rules/gradients.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        pipeline.all_outputs(),
        pipeline.report_outputs(),
    localrule: True
