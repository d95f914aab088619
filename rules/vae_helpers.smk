# Helpers of the VAE stage (rules/vae.smk): paths, the grid, params, config checks.

VAE_RUN = "results/vae/{dataset}/{architecture}/{family}/seed{seed}"
VAE_TABLE = "results/vae/main_table.csv"
VAE_TABLE_MD = "results/vae/main_table.md"
VAE_TABLE_TEX = "results/vae/main_table.tex"
VAE_CLAIMS = "results/vae/claims.md"
VAE_ELBO_FIGURE = "results/vae/test_elbo.png"
VAE_DISTANCE_FIGURE = "results/vae/vertex_distances.png"
VAE_VANISHED_FIGURE = "results/vae/vanished_gradients.png"


def vae_grids():
    """The main grid of the ``vae`` section, then its ``extra_grids`` (seeds default)."""
    section = config["vae"]
    main = {
        key: section[key] for key in ("datasets", "architectures", "families", "seeds")
    }
    extras = [
        {"seeds": section["seeds"], **grid} for grid in section.get("extra_grids", [])
    ]
    return [main] + extras


def vae_families():
    """Every family that some grid trains, in first-seen order."""
    return list(dict.fromkeys(f for grid in vae_grids() for f in grid["families"]))


def vae_config_errors():
    """Checks of the ``vae`` section that JSON schema cannot express (keys named)."""
    section, problems = config["vae"], []
    priors = config["priors"]
    families = vae_families()
    for family in families:
        prior_family = "igr_sb" if family == "igr_sb_trunc" else family
        if prior_family not in priors["families"]:
            problems.append(
                f"config key 'vae.families' (or 'vae.extra_grids'): {family} needs the "
                f"{prior_family} prior, add it to 'priors.families'"
            )
    needed = {section["num_categories"]} if set(families) - {"igr_sb_trunc"} else set()
    if "igr_sb_trunc" in families:
        needed.add(section["truncation"]["max_categories"])
    for k in sorted(needed - set(priors["num_categories"])):
        problems.append(
            f"config key 'priors.num_categories': must include K = {k} "
            "(vae.num_categories / vae.truncation.max_categories)"
        )
    if problems:
        raise WorkflowError(invalid_config_message(problems))


vae_config_errors()


def vae_grid():
    """Every (dataset, architecture, family, seed) of the ``vae`` grids, each run once."""
    runs = {}
    for grid in vae_grids():
        for d in grid["datasets"]:
            for a in grid["architectures"]:
                for f in grid["families"]:
                    for s in grid["seeds"]:
                        run = dict(dataset=d, architecture=a, family=f, seed=s)
                        runs[tuple(run.values())] = run
    return list(runs.values())


def vae_run_files(name):
    return [f"{VAE_RUN.format(**run)}/{name}" for run in vae_grid()]


def vae_outputs():
    """Everything the VAE stage contributes to ``rule all`` (nothing without a grid)."""
    if not vae_grid():
        return []
    return [
        VAE_TABLE,
        VAE_TABLE_MD,
        VAE_TABLE_TEX,
        VAE_CLAIMS,
        VAE_ELBO_FIGURE,
        VAE_DISTANCE_FIGURE,
        VAE_VANISHED_FIGURE,
    ]


def vae_prior(wildcards):
    """The priors-stage file this family reads (truncated IGR-SB: igr_sb with K_max)."""
    section = config["vae"]
    if wildcards.family == "igr_sb_trunc":
        return prior_path("igr_sb", section["truncation"]["max_categories"])
    return prior_path(wildcards.family, section["num_categories"])


def vae_train_options(wildcards):
    """Hyper-parameters of one training job (deterministic, sorted)."""
    section = config["vae"]
    family = wildcards.family
    settings = {
        "temperature": section["temperatures"][family],
        "num_variables": section["num_variables"],
        "num_categories": (
            section["truncation"]["max_categories"]
            if family == "igr_sb_trunc"
            else section["num_categories"]
        ),
        "epochs": section["epochs"],
        "batch_size": section["batch_size"],
        "learning_rate": section["learning_rate"],
        "checkpoint_every": section["checkpoint_every"],
        "eval_every": section["eval_every"],
        "eval_examples": section["eval_examples"],
    }
    if family == "igr_planar":
        settings["planar_layers"] = section["planar_layers"]
    if family == "igr_sb_trunc":
        settings["threshold"] = section["truncation"]["threshold"]
        settings["quantile"] = section["truncation"]["quantile"]
    options = cli_options(settings)
    return options + (" --jit" if section["jit_compile"] else "")


def vae_evaluate_options():
    section = config["vae"]["evaluation"]
    return cli_options(section)
