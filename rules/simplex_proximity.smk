# Stage "simplex proximity" (spec section 4): distance of relaxed samples to the nearest
# vertex against the temperature, GS (uniform logits) against IGR-I (its uniform prior for
# each configured sigma0).


rule simplex_proximity:
    output:
        table=paths.SIMPLEX_PROXIMITY_TABLE,
    log:
        paths.log_path("simplex_proximity", "simplex_proximity"),
    benchmark:
        paths.benchmark_path("simplex_proximity", "simplex_proximity")
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("simplex_proximity", "threads")
    resources:
        **pipeline.rule_resources("simplex_proximity"),
    params:
        options=pipeline.simplex_proximity_options(),
    shell:
        "igr simplex-proximity {params.options} --threads {threads} --output-table {output.table}"
        " > {log} 2>&1"


rule summarize_simplex_proximity:
    input:
        table=paths.SIMPLEX_PROXIMITY_TABLE,
    output:
        figure=report(
            paths.SIMPLEX_PROXIMITY_FIGURE,
            caption="../workflow/report/simplex_proximity_figure.rst",
            category=pipeline.report_category("simplex_proximity"),
            labels={"result": "distance against temperature"},
        ),
        claims=paths.SIMPLEX_PROXIMITY_CLAIMS,
    log:
        paths.log_path("summarize_simplex_proximity", "summary"),
    benchmark:
        paths.benchmark_path("summarize_simplex_proximity", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_simplex_proximity", "threads")
    resources:
        **pipeline.rule_resources("summarize_simplex_proximity"),
    params:
        claims=pipeline.claims_options(),
    shell:
        "igr summarize-simplex-proximity {input.table} --output-figure {output.figure}"
        " --output-claims {output.claims} {params.claims} > {log} 2>&1"
