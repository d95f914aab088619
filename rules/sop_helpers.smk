# Paths and params of the "sop" stage (rules/sop.smk); functions only.

SOP_RUN = "results/sop/{dataset}/{family}/seed{seed}"
SOP_TABLE = "results/sop/sop_losses.csv"
SOP_FIGURE = "results/sop/predictions.png"
SOP_CLAIM = "results/sop/claim.csv"


def sop_run_files(name):
    """``name`` in the run folder of every (family, seed) of the config, sorted."""
    section = config["sop"]
    return [
        f"{SOP_RUN.format(dataset=section['dataset'], family=family, seed=seed)}/{name}"
        for family in sorted(section["families"])
        for seed in sorted(section["seeds"])
    ]


def sop_outputs():
    """Everything the SOP stage contributes to ``rule all``."""
    return [SOP_TABLE, SOP_FIGURE, SOP_CLAIM]


def sop_train_options(wildcards):
    """Hyper-parameters of ``igr sop train`` for one family (temperature per family)."""
    section = config["sop"]
    schedule = section["learning_rate"]
    return cli_options(
        {
            "temperature": section["temperatures"][wildcards.family],
            "hidden_units": section["hidden_units"],
            "planar_layers": section["planar_layers"],
            "epochs": section["epochs"],
            "batch_size": section["batch_size"],
            "learning_rate": schedule["initial"],
            "learning_rate_decay": schedule["decay"],
            "learning_rate_floor": schedule["floor"],
            "checkpoint_every": section["checkpoint_every"],
        }
    )


def sop_evaluate_options():
    """Evaluation options of ``igr sop train --evaluation-output`` (as ``igr sop evaluate``)."""
    section = config["sop"]
    return cli_options(
        {
            "num_samples": section["test_samples"],
            "eval_batch_size": section["eval_batch_size"],
            "eval_examples": section["eval_examples"],
            "num_predictions": section["num_predictions"],
        }
    )
