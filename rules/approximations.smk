# Stage "approximations" (spec section 3): fit GS (several K) and truncated IGR-SB to
# discrete targets, one job per target; then one table, one figure and the claim check.


rule approximate:
    output:
        fits=paths.APPROXIMATION,
    log:
        paths.log_path("approximate", "{target}"),
    benchmark:
        paths.benchmark_path("approximate", "{target}")
    wildcard_constraints:
        target="poisson|negative_binomial|binomial|fixed_pmf",
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("approximate", "threads")
    resources:
        **pipeline.rule_resources("approximate"),
    params:
        target=lambda wildcards: pipeline.approximation_target_options(wildcards.target),
        fit=pipeline.approximation_fit_options(),
    shell:
        "igr approximate --target {wildcards.target} {params.target} {params.fit}"
        " --threads {threads} --output {output.fits} > {log} 2>&1"


rule summarize_approximations:
    input:
        fits=pipeline.approximation_paths(),
    output:
        table=paths.APPROXIMATIONS_TABLE,
        figure=report(
            paths.APPROXIMATIONS_FIGURE,
            caption="../workflow/report/approximations_figure.rst",
            category=pipeline.report_category("approximations"),
            labels={"result": "argmax histograms"},
        ),
        claim=paths.APPROXIMATIONS_CLAIM,
    log:
        paths.log_path("summarize_approximations", "summary"),
    benchmark:
        paths.benchmark_path("summarize_approximations", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_approximations", "threads")
    resources:
        **pipeline.rule_resources("summarize_approximations"),
    params:
        claims=pipeline.claims_options(),
    shell:
        "igr summarize-approximations {input.fits} --output-table {output.table}"
        " --output-figure {output.figure} --output-claim {output.claim} {params.claims}"
        " > {log} 2>&1"
