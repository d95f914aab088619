"""Shared plumbing of the ``igr`` subcommands: command groups such as ``igr vae <command>``,
and the help text of the options many commands share (:func:`document`).

A stage's commands come from two layers: ``igr vae train`` and ``igr vae evaluate`` from
:mod:`igr.experiments.vae`, ``igr vae summarize`` from :mod:`igr.reporting.vae`. Each module
asks for the group with :func:`command_group`, which creates it on first use, so neither
layer imports the other.
"""

from __future__ import annotations

import argparse


def command_group(
    subparsers: argparse._SubParsersAction, name: str, **parser_options
) -> argparse._SubParsersAction:
    """The subcommands of group ``name`` under ``subparsers``, created on first use.

    ``parser_options`` (help, description, ...) apply when the group is created.
    """
    group = subparsers.choices.get(name)
    if group is None:
        group = subparsers.add_parser(name, **parser_options)
        return group.add_subparsers(title="commands", metavar="<command>", required=True)
    return next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))


#: Help of the options that several commands share, by destination; an option that defines
#: its own help keeps it. Defaults are appended by ``ArgumentDefaultsHelpFormatter``.
SHARED_OPTION_HELP: dict[str, str] = {
    "seed": "seed of every random draw of the command (stateless, reproducible)",
    "threads": "TensorFlow intra- and inter-op threads (the rule's threads)",
    "family": "relaxed family (igr.families registry)",
    "families": "relaxed families to compare",
    "output": "JSON record to write (atomically)",
    "output_table": "CSV table to write",
    "output_figure": "PNG figure to write",
    "output_claim": "claim file (CSV: claim, verdict, reason, scale) to write",
    "data_dir": "data folder; default $IGR_DATA_DIR, else resources/data",
    "num_categories": "K, the number of categories",
    "batch_size": "examples per batch",
    "eval_batch_size": "test examples per evaluation batch",
    "num_samples": "draws per setting",
    "learning_rate": "Adam learning rate",
    "kl_warmup_steps": "KL weight min(1, (t+1)/W) over the first W steps (0: none, the paper)",
    "epochs": "training epochs (more epochs than a finished run extend it)",
    "num_predictions": "test images shown in the predictions figure",
    "temperatures": "temperatures tau, strictly increasing",
    "target": "discrete target distribution to fit",
    "gs_num_categories": "K of each GS fit",
    "gs_temperature": "tau of the GS fits",
    "igr_sb_max_categories": "K_max, the cap of truncated IGR-SB",
    "igr_sb_temperature": "tau of the truncated IGR-SB fit",
    "igr_sb_threshold": "truncation: stick mass that the kept categories must reach",
    "igr_sb_quantile": "truncation: quantile of n over the batch's samples",
    "samples_per_step": "relaxed samples whose mean estimates the argmax law per Adam step",
    "eval_samples": "argmax samples of the reported histogram and divergences",
    "learning_rate_decay": "d in lr_t = max(floor, lr / (1 + d t))",
    "learning_rate_floor": "floor in lr_t = max(floor, lr / (1 + d t))",
    "train_record": "train.json of the run to evaluate",
    "dataset": "dataset (igr data list)",
    "architecture": "encoder/decoder networks (spec section 5)",
    "num_variables": "V, the number of categorical latent variables",
    "planar_layers": "planar flow layers (IGR-Planar only)",
    "checkpoint_every": "save a checkpoint every this many epochs (and after the last)",
    "eval_every": "test ELBO in the history every this many epochs",
    "run_dir": "run folder: checkpoints/, history.csv, tensorboard/ (resumed if it matches)",
    "history": "copy of the per-epoch history CSV to write",
    "num_importance_samples": "S, importance samples of the discrete bound",
    "bound_batch_size": "test examples per batch of the discrete bound",
    "distance_subsample": "vertex distances kept in the record for the figure",
    "evaluations": "evaluation.json files of the runs",
    "histories": "history.csv files of the runs",
    "table_csv": "main table (CSV) to write",
    "table_markdown": "main table (Markdown) to write",
    "table_latex": "main table (LaTeX) to write",
    "claims": "claim file (Markdown) to write",
    "elbo_figure": "test-ELBO-against-epoch figure to write",
    "distance_figure": "posterior vertex-distance figure to write",
    "vanished_figure": "vanished-gradient figure to write",
    "diagnostics_figure": "diagnostics figure (relaxation gap, KL, distance) to write",
}


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless it is required, has no default
    (None, False) or its help already speaks of its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.required
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or "default" in text
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def subcommand_parsers(parser: argparse.ArgumentParser):
    """``parser`` and every parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from subcommand_parsers(child)


def document(parser: argparse.ArgumentParser) -> None:
    """Show each option's default in ``--help`` and give the shared options their help."""
    for command in subcommand_parsers(parser):
        command.formatter_class = DefaultsHelpFormatter
        for action in command._actions:
            if action.help is None and action.dest in SHARED_OPTION_HELP:
                action.help = SHARED_OPTION_HELP[action.dest]
