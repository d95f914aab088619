# Stage "priors" (spec section 2): the uniform prior of each family for each K.


rule learn_prior:
    output:
        prior=paths.prior_path(),
    log:
        paths.log_path("learn_prior", "{family}_K{K}"),
    benchmark:
        paths.benchmark_path("learn_prior", "{family}_K{K}")
    wildcard_constraints:
        family=wildcard_pattern("priors"),
        K="[0-9]+",
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("learn_prior", "threads")
    resources:
        **pipeline.rule_resources("learn_prior"),
    params:
        options=lambda wildcards: pipeline.prior_options(wildcards.family),
    shell:
        "igr learn-prior --family {wildcards.family} --num-categories {wildcards.K}"
        " {params.options} --threads {threads} --output {output.prior} > {log} 2>&1"


rule summarize_priors:
    input:
        priors=pipeline.prior_paths(),
    output:
        table=paths.PRIORS_TABLE,
        figure=report(
            paths.PRIORS_FIGURE,
            caption="../workflow/report/priors_figure.rst",
            category=pipeline.report_category("priors"),
            labels={"result": "argmax laws"},
        ),
    log:
        paths.log_path("summarize_priors", "summary"),
    benchmark:
        paths.benchmark_path("summarize_priors", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_priors", "threads")
    resources:
        **pipeline.rule_resources("summarize_priors"),
    shell:
        "igr summarize-priors {input.priors} --output-table {output.table}"
        " --output-figure {output.figure} > {log} 2>&1"
