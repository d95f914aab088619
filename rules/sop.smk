# Stage "sop" (spec section 6): structured output prediction, one job per (family, seed)
# that trains and then evaluates (igr sop train --evaluation-output: one TensorFlow start-up
# instead of two), then the table over seeds, the figure of predicted lower halves and the
# claim check. Training jobs resume from their checkpoints
# in results/sop/.../run/ when rerun (the run folder is not an output, so Snakemake keeps it
# when a job fails or is pre-empted; a run folder of other settings is cleared first).


rule train_sop:
    input:
        manifest=paths.dataset_manifest(),
        temperature=lambda wildcards: pipeline.sop_temperature_file(wildcards.family),
    output:
        record=f"{paths.SOP_RUN}/train.json",
        evaluation=f"{paths.SOP_RUN}/evaluation.json",
    log:
        paths.log_path("train_sop", "{dataset}_{family}_seed{seed}"),
    benchmark:
        paths.benchmark_path("train_sop", "{dataset}_{family}_seed{seed}")
    wildcard_constraints:
        family=wildcard_pattern("sop"),
        seed="[0-9]+",
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("train_sop", "threads")
    resources:
        **pipeline.rule_resources("train_sop"),
    params:
        options=lambda wildcards: pipeline.sop_train_options(wildcards.family),
        evaluation=pipeline.sop_evaluate_options(),
        run_dir=lambda wildcards: f"{paths.SOP_RUN.format(**wildcards)}/run",
    shell:
        "igr sop train --dataset {wildcards.dataset}"
        " --family {wildcards.family} --seed {wildcards.seed} {params.options}"
        " {params.evaluation} --threads {threads} --run-dir {params.run_dir}"
        " --output {output.record} --evaluation-output {output.evaluation} > {log} 2>&1"


rule summarize_sop:
    input:
        evaluations=pipeline.sop_run_files("evaluation.json"),
    output:
        table=paths.SOP_TABLE,
        figure=report(
            paths.SOP_FIGURE,
            caption="../workflow/report/sop_figure.rst",
            category=pipeline.report_category("sop"),
            labels={"result": "predicted lower halves"},
        ),
        claim=paths.SOP_CLAIM,
    log:
        paths.log_path("summarize_sop", "summary"),
    benchmark:
        paths.benchmark_path("summarize_sop", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_sop", "threads")
    resources:
        **pipeline.rule_resources("summarize_sop"),
    params:
        claims=pipeline.claims_options(),
    shell:
        "igr sop summarize {input.evaluations} --output-table {output.table}"
        " --output-figure {output.figure} --output-claim {output.claim} {params.claims}"
        " > {log} 2>&1"
