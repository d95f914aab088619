# Stage "temperatures": the calibrated temperature of each family and K, the largest tau at
# which a share of the family's uniform-prior draws lies near a vertex (calibration section).


rule calibrate_temperature:
    input:
        prior=lambda wildcards: pipeline.temperature_prior(
            wildcards.family, wildcards.K
        ),
    output:
        temperature=paths.temperature_path(),
    log:
        paths.log_path("calibrate_temperature", "{family}_K{K}"),
    benchmark:
        paths.benchmark_path("calibrate_temperature", "{family}_K{K}")
    wildcard_constraints:
        family=wildcard_pattern("temperatures"),
        K="[0-9]+",
    conda:
        CONDA_ENV
    threads: pipeline.rule_resource("calibrate_temperature", "threads")
    resources:
        **pipeline.rule_resources("calibrate_temperature"),
    params:
        options=lambda wildcards: pipeline.calibration_options(wildcards.family),
    shell:
        "igr calibrate-temperature --family {wildcards.family} --num-categories {wildcards.K}"
        " --prior {input.prior} {params.options} --threads {threads}"
        " --output {output.temperature} > {log} 2>&1"
