# Stage "gradients" (beyond the paper): single-sample gradient estimators of E[f(b)] for one
# categorical variable against the exact gradient (igr.experiments.gradient_study), each
# family also at its calibrated temperature (stage temperatures); the encoder-gradient
# variance of every trained VAE at its final checkpoint (igr.experiments.gradient_vae); then
# the figure, results/gradients/vae.csv and the claim "IGR has lower-variance gradients than
# GS at matched temperature".


rule gradient_study_toy:
    input:
        temperatures=pipeline.gradient_temperature_files(),
    output:
        table=paths.GRADIENTS_TOY_TABLE,
        record=paths.GRADIENTS_TOY_RECORD,
    log:
        paths.log_path("gradient_study_toy", "toy"),
    benchmark:
        paths.benchmark_path("gradient_study_toy", "toy")
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("gradient_study_toy", "threads")
    resources:
        **pipeline.rule_resources("gradient_study_toy"),
    params:
        options=pipeline.gradient_toy_options(),
        temperatures=lambda wildcards, input: (
            f"--temperature-files {input.temperatures}" if input.temperatures else ""
        ),
    shell:
        "igr gradients toy {params.options} {params.temperatures} --threads {threads}"
        " --output {output.table} --record {output.record} > {log} 2>&1"


rule summarize_gradients:
    input:
        table=paths.GRADIENTS_TOY_TABLE,
        record=paths.GRADIENTS_TOY_RECORD,
        vae_runs=pipeline.gradient_vae_run_files(),
    output:
        **pipeline.gradient_summary_outputs(),
        figure=report(
            paths.GRADIENTS_TOY_FIGURE,
            caption="../workflow/report/gradients_figure.rst",
            category=pipeline.report_category("gradients"),
            labels={"result": "bias and variance against temperature"},
        ),
        claims=paths.GRADIENTS_CLAIMS,
    log:
        paths.log_path("summarize_gradients", "summary"),
    benchmark:
        paths.benchmark_path("summarize_gradients", "summary")
    localrule: True
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("summarize_gradients", "threads")
    resources:
        **pipeline.rule_resources("summarize_gradients"),
    params:
        claims=pipeline.claims_options(),
        vae=pipeline.gradient_summary_options(),
    shell:
        "igr gradients summarize {input.table} --record {input.record} {params.vae}"
        " --figure {output.figure} --claims {output.claims} {params.claims} > {log} 2>&1"


rule vae_encoder_gradients:
    input:
        record=f"{paths.VAE_RUN}/train.json",
    output:
        gradients=f"{paths.VAE_RUN}/gradients.json",
    log:
        paths.log_path(
            "vae_encoder_gradients", "{dataset}_{architecture}_{family}_seed{seed}"
        ),
    benchmark:
        paths.benchmark_path(
            "vae_encoder_gradients", "{dataset}_{architecture}_{family}_seed{seed}"
        )
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("vae_encoder_gradients", "threads")
    resources:
        **pipeline.rule_resources("vae_encoder_gradients"),
    params:
        options=pipeline.gradient_vae_options(),
    shell:
        "igr gradients vae {input.record} {params.options} --threads {threads}"
        " --output {output.gradients} > {log} 2>&1"
