# Stage "data": fetch and verify each dataset once, on the machine that runs Snakemake
# (a local rule: cluster compute nodes often have no internet). Training rules take the
# dataset's manifest as input, so they start only after the data verified. The data folder
# reaches jobs through $IGR_DATA_DIR (rules/common.smk, igr.pipeline.data), never through params: moving it
# reruns nothing, while other registered checksums (params.content) rerun the fetch.


localrules:
    fetch_data,


rule fetch_data:
    output:
        manifest=paths.dataset_manifest(),
    log:
        paths.log_path("fetch_data", "{dataset}"),
    benchmark:
        paths.benchmark_path("fetch_data", "{dataset}")
    wildcard_constraints:
        dataset="|".join(sorted(DATASETS)),
    conda:
        CONDA_ENV
    params:
        content=lambda wildcards: dataset_identity(wildcards.dataset),
        retries=config["data"]["retries"],
    shell:
        "igr data fetch {wildcards.dataset}"
        " --retries {params.retries} --manifest {output.manifest} --quiet > {log} 2>&1"
