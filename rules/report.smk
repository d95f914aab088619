# Stage "report": the report's own pages, after every other stage (igr.reporting.pages):
# claims at a glance (also the report's first page, landing.rst), provenance (code,
# packages, machine, config, data checksums, wall time per job from the benchmark files),
# and every table and claim as an HTML page that the report shows as text.


rule report_pages:
    input:
        stages=pipeline.all_outputs(),
        manifests=pipeline.report_manifests(),
        description="workflow/report/workflow.rst",
    output:
        **{
            spec["name"]: report(
                spec["page"],
                caption=spec["caption"],
                category=spec["category"],
                labels={"result": spec["label"]},
            )
            for spec in pipeline.report_pages()
        },
        claims=report(
            paths.REPORT_CLAIMS,
            caption="../workflow/report/claims_at_a_glance.rst",
            category=pipeline.report_category("claims"),
            labels={"result": "every claim, its verdict and reason"},
        ),
        provenance=report(
            paths.REPORT_PROVENANCE,
            caption="../workflow/report/provenance.rst",
            category=pipeline.report_category("provenance"),
            labels={"result": "code, packages, machine, config, data, wall time"},
        ),
        landing=paths.REPORT_LANDING,
    log:
        paths.log_path("report_pages", "report"),
    localrule: True
    conda:
        CONDA_ENV
    params:
        claims=pipeline.report_claim_files(),
        pages=" ".join(f"{s['source']}={s['page']}" for s in pipeline.report_pages()),
        config=shell_quote(json.dumps(pipeline.report_config())),
        benchmarks=paths.BENCHMARKS_DIR,
        output_dir=lambda wildcards, output: os.path.dirname(output.claims),
    shell:
        "igr report pages --claims {params.claims:q} --page {params.pages}"
        " --manifests {input.manifests} --benchmarks {params.benchmarks}"
        " --config-json {params.config} --description {input.description}"
        " --output-dir {params.output_dir} > {log} 2>&1"
