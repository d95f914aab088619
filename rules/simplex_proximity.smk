# Stage "simplex proximity" (spec section 4): distance of relaxed samples to the nearest
# vertex against the temperature, GS (uniform logits) against IGR-I (learned prior).


rule simplex_proximity:
    input:
        **simplex_proximity_prior_inputs(),
    output:
        table=report(
            SIMPLEX_PROXIMITY_TABLE,
            caption="../workflow/report/simplex_proximity_table.rst",
            category="2. Simplex proximity",
            labels={"result": "distance summary"},
        ),
        figure=report(
            SIMPLEX_PROXIMITY_FIGURE,
            caption="../workflow/report/simplex_proximity_figure.rst",
            category="2. Simplex proximity",
            labels={"result": "distance against temperature"},
        ),
        claims=report(
            SIMPLEX_PROXIMITY_CLAIMS,
            caption="../workflow/report/simplex_proximity_claims.rst",
            category="2. Simplex proximity",
            labels={"result": "claim: IGR nearer the vertices"},
        ),
    log:
        log_path("simplex_proximity", "simplex_proximity"),
    conda:
        CONDA_ENV
    threads: rule_resource("simplex_proximity", "threads")
    resources:
        **rule_resources("simplex_proximity"),
    params:
        families=" ".join(config["simplex_proximity"]["families"]),
        num_categories=config["simplex_proximity"]["num_categories"],
        temperatures=" ".join(map(str, config["simplex_proximity"]["temperatures"])),
        num_samples=config["simplex_proximity"]["num_samples"],
        seed=config["simplex_proximity"]["seed"],
        prior=simplex_proximity_prior_option(),
    shell:
        "igr simplex-proximity --families {params.families}"
        " --num-categories {params.num_categories} --temperatures {params.temperatures}"
        " --num-samples {params.num_samples} --seed {params.seed} {params.prior}"
        " --threads {threads} --output-table {output.table}"
        " --output-figure {output.figure} --output-claims {output.claims} > {log} 2>&1"
