# Paths and params of the "approximations" stage (rules/approximations.smk); functions only.

APPROXIMATIONS_TABLE = "results/approximations/approximations.csv"
APPROXIMATIONS_FIGURE = "results/approximations/histograms.png"
APPROXIMATIONS_CLAIM = "results/approximations/claim.csv"


def approximation_path(target="{target}"):
    """Fits of one target: ``results/approximations/{target}.json``."""
    return f"results/approximations/{target}.json"


def approximation_targets():
    """Target names of the config, sorted (deterministic)."""
    return sorted(config["approximations"]["targets"])


def approximations_outputs():
    """Everything the approximations stage contributes to ``rule all``."""
    return [APPROXIMATIONS_TABLE, APPROXIMATIONS_FIGURE, APPROXIMATIONS_CLAIM]


def approximation_target_options(target):
    """``--parameter key=value`` for each parameter of ``target`` (keys sorted)."""
    parameters = config["approximations"]["targets"][target]
    return " ".join(
        "--parameter {}={}".format(
            key,
            (
                ",".join(map(str, parameters[key]))
                if isinstance(parameters[key], list)
                else parameters[key]
            ),
        )
        for key in sorted(parameters)
    )


def approximation_fit_options():
    """Fit settings shared by every target, as ``igr approximate`` options."""
    section = config["approximations"]
    gs, sb = section["gs"], section["igr_sb"]
    options = {
        "num_steps": section["num_steps"],
        "samples_per_step": section["samples_per_step"],
        "learning_rate": section["learning_rate"],
        "eval_samples": section["eval_samples"],
        "seed": section["seed"],
        "gs_num_categories": " ".join(map(str, sorted(gs["num_categories"]))),
        "gs_temperature": gs["temperature"],
        "igr_sb_max_categories": sb["max_categories"],
        "igr_sb_temperature": sb["temperature"],
        "igr_sb_threshold": sb["threshold"],
        "igr_sb_quantile": sb["quantile"],
    }
    return cli_options(options)
