# Stage "data": fetch and verify each dataset once, on the machine that runs Snakemake
# (a local rule: cluster compute nodes often have no internet). Training rules take the
# dataset's manifest as input, so they start only after the data verified.


localrules:
    fetch_data,


rule fetch_data:
    output:
        manifest=dataset_manifest(),
    log:
        log_path("fetch_data", "{dataset}"),
    wildcard_constraints:
        dataset="celeba|digits|fashion-mnist|mnist|omniglot",
    conda:
        CONDA_ENV
    params:
        data_dir=data_dir(),
        retries=config["data"]["retries"],
    shell:
        "igr data fetch {wildcards.dataset} --data-dir {params.data_dir}"
        " --retries {params.retries} --manifest {output.manifest} --quiet > {log} 2>&1"
