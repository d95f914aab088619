"""What the rules need beyond paths, computed from one validated config (no Snakemake).

``rules/common.smk`` makes one ``pipeline = Pipeline(config)``; each rule passes its
output paths and ``pipeline.<stage>_options(...)`` strings to one ``igr`` command. Every
family-specific choice comes from the registry :mod:`igr.families`: which priors-stage file
a family reads and at which K, which options it takes (planar layers, truncation), which
prior family's settings its prior uses. Options are ``--key value`` with sorted keys, so
params are deterministic and a changed hyper-parameter reruns exactly its jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from igr.families import get_family, xla_parts
from igr.pipeline import paths

#: Cluster keys of a rule's config block -> resource names of the SLURM executor plugin.
SLURM_RESOURCE_NAMES = {
    "gpus": "gpu",
    "gpu_model": "gpu_model",
    "slurm_partition": "slurm_partition",
    "constraint": "constraint",
    "slurm_extra": "slurm_extra",
}


def cli_options(settings: Mapping[str, Any]) -> str:
    """``{'num_steps': 200}`` -> ``--num-steps 200``, keys sorted (deterministic params)."""
    return " ".join(f"--{key.replace('_', '-')} {settings[key]}" for key in sorted(settings))


#: The report's category of each stage, in the order the report lists them (every rule's
#: ``report(..., category=...)`` reads it through :meth:`Pipeline.report_category`).
REPORT_CATEGORIES: dict[str, str] = {
    "claims": "0. Claims at a glance",
    "priors": "1. Priors",
    "simplex_proximity": "2. Simplex proximity",
    "approximations": "3. Approximating discrete distributions",
    "vae": "4. Discrete VAEs",
    "sop": "5. Structured output prediction",
    "gradients": "6. Gradient estimators",
    "provenance": "7. Provenance",
}


class Pipeline:
    """The params, inputs, grids and outputs of every stage for one config."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        #: Every output path under the config's ``results_dir`` (:mod:`igr.pipeline.paths`).
        self.paths = paths.OutputPaths(config.get("results_dir", paths.DEFAULT_ROOT))

    # ------------------------------------------------------------------ resources

    def rule_resource(self, rule_name: str, key: str):
        """``resources.<rule>.<key>`` of the config, else ``resources.default.<key>``."""
        resources = self.config["resources"]
        return resources.get(rule_name, {}).get(key, resources["default"][key])

    def rule_resources(self, rule_name: str) -> dict[str, Any]:
        """The ``resources:`` of a rule's jobs: always ``mem_mb`` and ``runtime`` (minutes);
        the SLURM requests of :data:`SLURM_RESOURCE_NAMES` only when set (``gpus`` >= 1,
        other keys not null), so an unset partition keeps the profile's default-resources.
        """
        resources = {
            "mem_mb": self.rule_resource(rule_name, "mem_mb"),
            "runtime": self.rule_resource(rule_name, "runtime"),
        }
        for key, name in SLURM_RESOURCE_NAMES.items():
            value = self.rule_resource(rule_name, key)
            if value is not None and value != 0:
                resources[name] = value
        if "gpu" not in resources:
            resources.pop("gpu_model", None)
        return resources

    # ------------------------------------------------------------------ priors

    def prior_paths(self) -> list[str]:
        """Prior files of every family and K the ``priors`` section asks for."""
        section = self.config["priors"]
        return [
            self.paths.prior_path(family, k)
            for k in sorted(section["num_categories"])
            for family in section["families"]
        ]

    def prior_options(self, family: str) -> str:
        """Options of ``igr learn-prior``: the settings of the family's prior family
        (``priors.igr_i`` for IGR-Planar, spec 1.4; none for GS)."""
        section = self.config["priors"].get(get_family(family).prior_family)
        return cli_options(section) if section else ""

    def priors_outputs(self) -> list[str]:
        return self.prior_paths() + [self.paths.PRIORS_TABLE, self.paths.PRIORS_FIGURE]

    # ------------------------------------------------------------------ temperatures

    def temperature_prior(self, family: str, num_categories: int | str) -> str:
        """The priors-stage file a family's calibration reads (registry: its prior file)."""
        return self.paths.prior_path(get_family(family).prior_file, num_categories)

    def calibration_options(self, family: str) -> str:
        """Options of ``igr calibrate-temperature``: the ``calibration`` section, and the
        VAE's truncation settings for a truncated family."""
        settings = dict(self.config["calibration"])
        if get_family(family).truncated:
            truncation = self.config["vae"]["truncation"]
            settings.update(threshold=truncation["threshold"], quantile=truncation["quantile"])
        return cli_options(settings)

    def _temperature(self, section: str, family: str, num_categories: int) -> dict[str, Any]:
        """``{"temperature": tau}`` or ``{"temperature_file": path}`` (calibrated)."""
        value = self.config[section]["temperatures"][family]
        if value == "calibrated":
            return {"temperature_file": self.paths.temperature_path(family, num_categories)}
        return {"temperature": value}

    def vae_temperature_file(self, family: str) -> list[str]:
        """The calibration file a VAE training job reads (none for a given number)."""
        chosen = self._temperature("vae", family, self.vae_num_categories(family))
        return [chosen["temperature_file"]] if "temperature_file" in chosen else []

    def sop_temperature_file(self, family: str) -> list[str]:
        """The calibration file (K = 2) an SOP training job reads (none for a number)."""
        chosen = self._temperature("sop", family, 2)
        return [chosen["temperature_file"]] if "temperature_file" in chosen else []

    def temperature_outputs(self) -> list[str]:
        """Every calibration file some training job reads."""
        files = [f for family in self.vae_families() for f in self.vae_temperature_file(family)]
        for family in self.config["sop"]["families"]:
            files += self.sop_temperature_file(family)
        return list(dict.fromkeys(files))

    # ------------------------------------------------------------------ simplex proximity

    def simplex_proximity_options(self) -> str:
        section = self.config["simplex_proximity"]
        options = (
            f"--families {' '.join(section['families'])}"
            f" --num-categories {section['num_categories']}"
            f" --temperatures {' '.join(map(str, section['temperatures']))}"
            f" --num-samples {section['num_samples']} --seed {section['seed']}"
        )
        if "igr_i" in section["families"]:
            options += f" --igr-i-scales {' '.join(map(str, section['igr_i_scales']))}"
        return options

    def simplex_proximity_outputs(self) -> list[str]:
        return [
            self.paths.SIMPLEX_PROXIMITY_TABLE,
            self.paths.SIMPLEX_PROXIMITY_FIGURE,
            self.paths.SIMPLEX_PROXIMITY_CLAIMS,
        ]

    # ------------------------------------------------------------------ approximations

    def approximation_targets(self) -> list[str]:
        """Target names of the config, sorted (deterministic)."""
        return sorted(self.config["approximations"]["targets"])

    def approximation_paths(self) -> list[str]:
        return [self.paths.APPROXIMATION.format(target=t) for t in self.approximation_targets()]

    def approximation_target_options(self, target: str) -> str:
        """``--parameter key=value`` for each parameter of ``target`` (keys sorted)."""
        parameters = self.config["approximations"]["targets"][target]

        def text(value):
            return ",".join(map(str, value)) if isinstance(value, list) else value

        return " ".join(f"--parameter {key}={text(parameters[key])}" for key in sorted(parameters))

    def approximation_fit_options(self) -> str:
        """Fit settings shared by every target, as ``igr approximate`` options."""
        section = self.config["approximations"]
        gs, sb = section["gs"], section["igr_sb"]
        return cli_options(
            {
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
        )

    def approximations_outputs(self) -> list[str]:
        return [
            self.paths.APPROXIMATIONS_TABLE,
            self.paths.APPROXIMATIONS_FIGURE,
            self.paths.APPROXIMATIONS_CLAIM,
        ]

    # ------------------------------------------------------------------ vae

    def vae_grids(self) -> list[dict[str, list]]:
        """The main grid of the ``vae`` section, then its ``extra_grids`` (seeds default)."""
        section = self.config["vae"]
        main = {key: section[key] for key in ("datasets", "architectures", "families", "seeds")}
        extras = [{"seeds": section["seeds"], **grid} for grid in section.get("extra_grids", [])]
        return [main] + extras

    def vae_families(self) -> list[str]:
        """Every family that some grid trains, in first-seen order."""
        return list(dict.fromkeys(f for grid in self.vae_grids() for f in grid["families"]))

    def vae_grid(self) -> list[dict[str, Any]]:
        """Every (dataset, architecture, family, seed) of the ``vae`` grids, each once."""
        runs: dict[tuple, dict[str, Any]] = {}
        for grid in self.vae_grids():
            for d in grid["datasets"]:
                for a in grid["architectures"]:
                    for f in grid["families"]:
                        for s in grid["seeds"]:
                            run = dict(dataset=d, architecture=a, family=f, seed=s)
                            runs[tuple(run.values())] = run
        return list(runs.values())

    def vae_num_categories(self, family: str) -> int:
        """K of a family's VAE: the truncation's K_max for a truncated family."""
        section = self.config["vae"]
        if get_family(family).truncated:
            return section["truncation"]["max_categories"]
        return section["num_categories"]

    def vae_run_files(self, name: str) -> list[str]:
        return [f"{self.paths.VAE_RUN.format(**run)}/{name}" for run in self.vae_grid()]

    def vae_outputs(self) -> list[str]:
        """Everything the VAE stage contributes to ``rule all`` (nothing without a grid)."""
        if not self.vae_grid():
            return []
        return [
            self.paths.VAE_TABLE,
            self.paths.VAE_TABLE_MD,
            self.paths.VAE_TABLE_TEX,
            self.paths.VAE_CLAIMS,
            self.paths.VAE_ELBO_FIGURE,
            self.paths.VAE_DISTANCE_FIGURE,
            self.paths.VAE_VANISHED_FIGURE,
            self.paths.VAE_DIAGNOSTICS_FIGURE,
        ]

    def vae_prior(self, family: str) -> str:
        """The priors-stage file a family's VAE reads (registry: its prior file, at its K)."""
        return self.paths.prior_path(
            get_family(family).prior_file, self.vae_num_categories(family)
        )

    def vae_train_options(self, family: str) -> str:
        """Hyper-parameters of one training job (deterministic, sorted)."""
        section = self.config["vae"]
        record = get_family(family)
        settings = {
            **self._temperature("vae", family, self.vae_num_categories(family)),
            "num_variables": section["num_variables"],
            "num_categories": self.vae_num_categories(family),
            "epochs": section["epochs"],
            "batch_size": section["batch_size"],
            "learning_rate": section["learning_rate"],
            "kl_warmup_steps": section["kl_warmup_steps"],
            "checkpoint_every": section["checkpoint_every"],
            "eval_every": section["eval_every"],
            "eval_examples": section["eval_examples"],
        }
        if record.planar:
            settings["planar_layers"] = section["planar_layers"]
        if record.truncated:
            settings["threshold"] = section["truncation"]["threshold"]
            settings["quantile"] = section["truncation"]["quantile"]
        return cli_options(settings) + self._vae_jit_options(family, "train")

    def vae_jit_setting(self) -> str:
        """``vae.jit_compile`` as the ``--jit`` value: auto (the per-family table of
        :func:`igr.families.use_xla`), true or false."""
        value = self.config["vae"]["jit_compile"]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _vae_jit_options(self, family: str, command: str) -> str:
        """``--jit`` and the parts it resolves to: a change of the table in igr.families
        changes these params, so Snakemake reruns the jobs it recompiles."""
        setting = self.vae_jit_setting()
        return f" --jit {setting} --expect-xla {xla_parts(family, command, setting)}"

    def vae_evaluate_options(self, family: str) -> str:
        return cli_options(self.config["vae"]["evaluation"]) + self._vae_jit_options(
            family, "evaluate"
        )

    # ------------------------------------------------------------------ sop

    def sop_run_files(self, name: str) -> list[str]:
        """``name`` in the run folder of every (family, seed) of the config, sorted."""
        section = self.config["sop"]
        return [
            f"{self.paths.SOP_RUN.format(dataset=section['dataset'], family=family, seed=seed)}"
            f"/{name}"
            for family in sorted(section["families"])
            for seed in sorted(section["seeds"])
        ]

    def sop_outputs(self) -> list[str]:
        return [self.paths.SOP_TABLE, self.paths.SOP_FIGURE, self.paths.SOP_CLAIM]

    def sop_train_options(self, family: str) -> str:
        """Hyper-parameters of ``igr sop train`` for one family (temperature per family)."""
        section = self.config["sop"]
        schedule = section["learning_rate"]
        return cli_options(
            {
                **self._temperature("sop", family, 2),
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

    def sop_evaluate_options(self) -> str:
        """Evaluation options of ``igr sop train --evaluation-output``."""
        section = self.config["sop"]
        return cli_options(
            {
                "num_samples": section["test_samples"],
                "eval_batch_size": section["eval_batch_size"],
                "eval_examples": section["eval_examples"],
                "num_predictions": section["num_predictions"],
            }
        )

    # ------------------------------------------------------------------ gradients

    def gradient_toy_enabled(self) -> bool:
        return bool(self.config["gradients"]["toy"]["enabled"])

    def gradient_temperature_files(self) -> list[str]:
        """The calibration file of every (family, K) of the toy study (none when
        ``gradients.toy.calibrated`` is false or the study is off)."""
        toy = self.config["gradients"]["toy"]
        if not (toy["enabled"] and toy["calibrated"]):
            return []
        return [
            self.paths.temperature_path(family, k)
            for k in sorted(toy["num_categories"])
            for family in toy["families"]
        ]

    def gradient_toy_options(self) -> str:
        """Options of ``igr gradients toy`` (lists in config order, scalars sorted)."""
        toy = self.config["gradients"]["toy"]
        scalars = cli_options({key: toy[key] for key in (
            "num_draws", "exact_draws", "blocks", "planar_layers", "seed")})
        return (
            f"--objectives {' '.join(toy['objectives'])}"
            f" --categories {' '.join(map(str, toy['num_categories']))}"
            f" --families {' '.join(toy['families'])}"
            f" --temperatures {' '.join(map(str, toy['temperatures']))} {scalars}"
        )

    def gradient_vae_enabled(self) -> bool:
        """``igr gradients vae`` runs when enabled and the VAE grid trains something."""
        return bool(self.config["gradients"]["vae"]["enabled"]) and bool(self.vae_grid())

    def gradient_vae_run_files(self) -> list[str]:
        """The record of ``igr gradients vae`` in every VAE run folder (none when off)."""
        return self.vae_run_files("gradients.json") if self.gradient_vae_enabled() else []

    def gradient_vae_options(self) -> str:
        section = self.config["gradients"]["vae"]
        return cli_options({"num_batches": section["num_batches"], "repeats": section["repeats"]})

    def gradient_summary_outputs(self) -> dict[str, str]:
        """Extra outputs of ``summarize_gradients``: the gathered VAE table when it runs."""
        return {"vae_table": self.paths.GRADIENTS_VAE_TABLE} if self.gradient_vae_enabled() else {}

    def gradient_summary_options(self) -> str:
        """``--vae-runs ... --vae-table ...`` of ``igr gradients summarize`` (when it runs)."""
        if not self.gradient_vae_enabled():
            return ""
        return (f"--vae-runs {' '.join(self.gradient_vae_run_files())}"
                f" --vae-table {self.paths.GRADIENTS_VAE_TABLE}")

    def gradients_outputs(self) -> list[str]:
        if not self.gradient_toy_enabled():
            return []
        return [
            self.paths.GRADIENTS_TOY_TABLE,
            self.paths.GRADIENTS_TOY_RECORD,
            self.paths.GRADIENTS_TOY_FIGURE,
            self.paths.GRADIENTS_CLAIMS,
            *self.gradient_summary_outputs().values(),
        ]

    # ------------------------------------------------------------------ claims

    def claims_options(self) -> str:
        """The ``claims`` section as ``--claims-*`` options of the summarize commands."""
        return cli_options({f"claims_{key}": value for key, value in self.config["claims"].items()})

    # ------------------------------------------------------------------ all

    # ------------------------------------------------------------------ report

    @staticmethod
    def report_category(stage: str) -> str:
        return REPORT_CATEGORIES[stage]

    def report_claim_files(self) -> list[str]:
        """``stage=path`` of every stage's claim file, in report order."""
        return [
            f"simplex proximity={self.paths.SIMPLEX_PROXIMITY_CLAIMS}",
            f"approximations={self.paths.APPROXIMATIONS_CLAIM}",
            f"discrete VAEs={self.paths.VAE_CLAIMS}",
            f"structured output prediction={self.paths.SOP_CLAIM}",
        ] + (
            [f"gradient estimators={self.paths.GRADIENTS_CLAIMS}"]
            if self.gradient_toy_enabled()
            else []
        )

    def report_pages(self) -> list[dict[str, str]]:
        """The HTML page of each table and claim: its source file, its page, and where the
        report shows it (category, label, caption file in workflow/report/)."""
        specs = [
            ("priors_table", self.paths.PRIORS_TABLE, "priors", "summary table", "priors_table"),
            ("simplex_proximity_table", self.paths.SIMPLEX_PROXIMITY_TABLE, "simplex_proximity",
             "median distances", "simplex_proximity_table"),
            ("simplex_proximity_claims", self.paths.SIMPLEX_PROXIMITY_CLAIMS, "simplex_proximity",
             "claim: IGR nearer the vertices", "simplex_proximity_claims"),
            ("approximations_table", self.paths.APPROXIMATIONS_TABLE, "approximations",
             "fits", "approximations_table"),
            ("approximations_claim", self.paths.APPROXIMATIONS_CLAIM, "approximations",
             "claim: IGR-SB covers Poisson(50)", "approximations_claim"),
            ("vae_table", self.paths.VAE_TABLE_MD, "vae", "main table", "vae_table"),
            ("vae_table_csv", self.paths.VAE_TABLE, "vae", "main table (all columns)",
             "vae_table"),
            ("vae_claims", self.paths.VAE_CLAIMS, "vae", "claim: IGR beats GS", "vae_claims"),
            ("sop_table", self.paths.SOP_TABLE, "sop", "losses", "sop_table"),
            ("sop_claim", self.paths.SOP_CLAIM, "sop", "claim: IGR lower SOP loss", "sop_claim"),
        ]
        if self.gradient_toy_enabled():
            specs += [
                ("gradients_toy_table", self.paths.GRADIENTS_TOY_TABLE, "gradients",
                 "toy study: bias, variance, cosine, MSE", "gradients_toy_table"),
                ("gradients_claims", self.paths.GRADIENTS_CLAIMS, "gradients",
                 "claim: IGR lower-variance gradients", "gradients_claims"),
            ]
        if self.gradient_toy_enabled() and self.gradient_vae_enabled():
            specs.append(("gradients_vae_table", self.paths.GRADIENTS_VAE_TABLE, "gradients",
                          "trained VAEs: encoder-gradient variance and SNR",
                          "gradients_vae_table"))
        return [
            {
                "name": name,
                "source": source,
                "page": f"{self.paths.REPORT_DIR}/pages/{name}.html",
                "category": REPORT_CATEGORIES[stage],
                "label": label,
                "caption": f"../workflow/report/{caption}.rst",
            }
            for name, source, stage, label, caption in specs
        ]

    def report_manifests(self) -> list[str]:
        """Manifests of the datasets this config trains on (their checksums)."""
        datasets = set(self.config["vae"]["datasets"]) | {self.config["sop"]["dataset"]}
        return [self.paths.dataset_manifest(d) for d in sorted(datasets)]

    def report_config(self) -> dict[str, Any]:
        """The resolved config the provenance page shows: every key except ``resources``
        and ``data`` (where jobs run and where the data lives change no result, so they
        are no rerun trigger of the report either)."""
        return {k: v for k, v in self.config.items() if k not in ("resources", "data")}

    def report_outputs(self) -> list[str]:
        return [
            self.paths.REPORT_CLAIMS,
            self.paths.REPORT_PROVENANCE,
            self.paths.REPORT_LANDING,
        ] + [spec["page"] for spec in self.report_pages()]

    def report_landing(self, basedir: str) -> str:
        """The report's first page: the generated one with the claims at a glance once
        ``report_pages`` has run, else ``workflow/report/workflow.rst``."""
        import os

        landing = os.path.abspath(self.paths.REPORT_LANDING)
        return landing if os.path.exists(landing) else os.path.join(
            basedir, "workflow", "report", "workflow.rst"
        )

    def all_outputs(self) -> list[str]:
        """Every target of ``rule all``."""
        return (
            self.priors_outputs()
            + self.temperature_outputs()
            + self.simplex_proximity_outputs()
            + self.vae_outputs()
            + self.approximations_outputs()
            + self.sop_outputs()
            + self.gradients_outputs()
        )
