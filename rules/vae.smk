# Stage "vae" (spec section 5): discrete VAEs over the grid
# dataset x architecture x family x seed, then the main table, figures and claims.
# Training jobs resume from their checkpoints in results/vae/.../run/ when rerun (the run
# folder is not an output, so Snakemake keeps it when a job fails or is pre-empted).


rule train_vae:
    input:
        manifest=paths.dataset_manifest(),
        prior=lambda wildcards: pipeline.vae_prior(wildcards.family),
        temperature=lambda wildcards: pipeline.vae_temperature_file(wildcards.family),
    output:
        record=f"{paths.VAE_RUN}/train.json",
        history=f"{paths.VAE_RUN}/history.csv",
    log:
        paths.log_path("train_vae", "{dataset}_{architecture}_{family}_seed{seed}"),
    benchmark:
        paths.benchmark_path(
            "train_vae", "{dataset}_{architecture}_{family}_seed{seed}"
        )
    wildcard_constraints:
        family=wildcard_pattern("vae"),
        architecture="linear|nonlinear|conv",
        seed="[0-9]+",
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("train_vae", "threads")
    resources:
        **pipeline.rule_resources("train_vae"),
    params:
        options=lambda wildcards: pipeline.vae_train_options(wildcards.family),
        run_dir=lambda wildcards: f"{paths.VAE_RUN.format(**wildcards)}/run",
    shell:
        "igr vae train --dataset {wildcards.dataset}"
        " --architecture {wildcards.architecture} --family {wildcards.family}"
        " --prior {input.prior} --seed {wildcards.seed} {params.options}"
        " --threads {threads} --run-dir {params.run_dir} --history {output.history}"
        " --output {output.record} > {log} 2>&1"


rule evaluate_vae:
    input:
        record=f"{paths.VAE_RUN}/train.json",
    output:
        evaluation=f"{paths.VAE_RUN}/evaluation.json",
    log:
        paths.log_path("evaluate_vae", "{dataset}_{architecture}_{family}_seed{seed}"),
    benchmark:
        paths.benchmark_path(
            "evaluate_vae", "{dataset}_{architecture}_{family}_seed{seed}"
        )
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("evaluate_vae", "threads")
    resources:
        **pipeline.rule_resources("evaluate_vae"),
    params:
        options=lambda wildcards: pipeline.vae_evaluate_options(wildcards.family),
    shell:
        "igr vae evaluate {input.record} {params.options}"
        " --threads {threads} --output {output.evaluation} > {log} 2>&1"


rule summarize_vae:
    input:
        evaluations=pipeline.vae_run_files("evaluation.json"),
        histories=pipeline.vae_run_files("history.csv"),
    output:
        table=paths.VAE_TABLE,
        markdown=paths.VAE_TABLE_MD,
        latex=paths.VAE_TABLE_TEX,
        claims=paths.VAE_CLAIMS,
        elbo=report(
            paths.VAE_ELBO_FIGURE,
            caption="../workflow/report/vae_elbo_figure.rst",
            category=pipeline.report_category("vae"),
            labels={"result": "test ELBO against epoch"},
        ),
        distances=report(
            paths.VAE_DISTANCE_FIGURE,
            caption="../workflow/report/vae_distance_figure.rst",
            category=pipeline.report_category("vae"),
            labels={"result": "posterior concentration"},
        ),
        vanished=report(
            paths.VAE_VANISHED_FIGURE,
            caption="../workflow/report/vae_vanished_figure.rst",
            category=pipeline.report_category("vae"),
            labels={"result": "vanished gradients"},
        ),
        diagnostics=report(
            paths.VAE_DIAGNOSTICS_FIGURE,
            caption="../workflow/report/vae_diagnostics_figure.rst",
            category=pipeline.report_category("vae"),
            labels={"result": "diagnostics: relaxation gap, KL, vertex distance"},
        ),
    log:
        paths.log_path("summarize_vae", "summary"),
    benchmark:
        paths.benchmark_path("summarize_vae", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_vae", "threads")
    resources:
        **pipeline.rule_resources("summarize_vae"),
    params:
        claims=pipeline.claims_options(),
    shell:
        "igr vae summarize --evaluations {input.evaluations} --histories {input.histories}"
        " --table-csv {output.table} --table-markdown {output.markdown}"
        " --table-latex {output.latex} --claims {output.claims}"
        " --elbo-figure {output.elbo} --distance-figure {output.distances}"
        " --vanished-figure {output.vanished} --diagnostics-figure {output.diagnostics}"
        " {params.claims} > {log} 2>&1"
