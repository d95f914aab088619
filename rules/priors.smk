# Stage "priors" (spec section 2): the uniform prior of each family for each K.


rule learn_prior:
    output:
        prior=prior_path(),
    log:
        log_path("learn_prior", "{family}_K{K}"),
    wildcard_constraints:
        family="gs|igr_i|igr_planar|igr_sb",
        K="[0-9]+",
    conda:
        CONDA_ENV
    threads: rule_resource("learn_prior", "threads")
    resources:
        **rule_resources("learn_prior"),
    params:
        options=lambda wildcards: prior_options(wildcards.family),
    shell:
        "igr learn-prior --family {wildcards.family} --num-categories {wildcards.K}"
        " {params.options} --threads {threads} --output {output.prior} > {log} 2>&1"


rule summarize_priors:
    input:
        priors=all_prior_paths(),
    output:
        table=report(
            PRIORS_TABLE,
            caption="../workflow/report/priors_table.rst",
            category="1. Priors",
            labels={"result": "divergences to uniform"},
        ),
        figure=report(
            PRIORS_FIGURE,
            caption="../workflow/report/priors_figure.rst",
            category="1. Priors",
            labels={"result": "argmax laws"},
        ),
    log:
        log_path("summarize_priors", "summary"),
    localrule: True
    conda:
        CONDA_ENV
    threads: rule_resource("summarize_priors", "threads")
    resources:
        **rule_resources("summarize_priors"),
    shell:
        "igr summarize-priors {input.priors} --output-table {output.table}"
        " --output-figure {output.figure} > {log} 2>&1"
