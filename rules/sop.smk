# Stage "sop" (spec section 6): structured output prediction, one job per (family, seed)
# that trains and then evaluates (igr sop train --evaluation-output: one TensorFlow start-up
# instead of two), then the table over seeds, the figure of predicted lower halves and the
# claim check. Training jobs resume from their checkpoints
# in results/sop/.../run/ when rerun (the run folder is not an output, so Snakemake keeps it
# when a job fails or is pre-empted; a run folder of other settings is cleared first).


include: "sop_helpers.smk"


rule train_sop:
    input:
        manifest=dataset_manifest(),
    output:
        record=f"{SOP_RUN}/train.json",
        evaluation=f"{SOP_RUN}/evaluation.json",
    log:
        log_path("train_sop", "{dataset}_{family}_seed{seed}"),
    wildcard_constraints:
        family="gs|igr_i|igr_planar|igr_sb",
        seed="[0-9]+",
    conda:
        CONDA_ENV
    threads: rule_resource("train_sop", "threads")
    resources:
        **rule_resources("train_sop"),
    params:
        options=sop_train_options,
        evaluation=sop_evaluate_options(),
        run_dir=lambda wildcards: f"{SOP_RUN.format(**wildcards)}/run",
    shell:
        "igr sop train --dataset {wildcards.dataset}"
        " --family {wildcards.family} --seed {wildcards.seed} {params.options}"
        " {params.evaluation} --threads {threads} --run-dir {params.run_dir}"
        " --output {output.record} --evaluation-output {output.evaluation} > {log} 2>&1"


rule summarize_sop:
    input:
        evaluations=sop_run_files("evaluation.json"),
    output:
        table=report(
            SOP_TABLE,
            caption="../workflow/report/sop_table.rst",
            category="5. Structured output prediction",
            labels={"result": "test loss over seeds"},
        ),
        figure=report(
            SOP_FIGURE,
            caption="../workflow/report/sop_figure.rst",
            category="5. Structured output prediction",
            labels={"result": "predicted lower halves"},
        ),
        claim=report(
            SOP_CLAIM,
            caption="../workflow/report/sop_claim.rst",
            category="5. Structured output prediction",
            labels={"result": "paper's claim"},
        ),
    log:
        log_path("summarize_sop", "summary"),
    localrule: True
    conda:
        CONDA_ENV
    threads: rule_resource("summarize_sop", "threads")
    resources:
        **rule_resources("summarize_sop"),
    shell:
        "igr sop summarize {input.evaluations} --output-table {output.table}"
        " --output-figure {output.figure} --output-claim {output.claim} > {log} 2>&1"
