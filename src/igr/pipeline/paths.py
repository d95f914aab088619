"""Every path the pipeline writes, in one place (relative to the working directory).

The constants below are the paths under the default output root ``results``; a config's
``results_dir`` (``config/paper.yaml``: ``results/paper``) moves them all with
:class:`OutputPaths`, so that two configs never overwrite each other. Job logs go to
``logs/`` for the default root and to ``<results_dir>/logs/`` for any other.
"""

from __future__ import annotations

PRIOR = "results/priors/{family}_K{K}.json"
PRIORS_TABLE = "results/priors/priors_summary.csv"
PRIORS_FIGURE = "results/priors/argmax_laws.png"

#: Calibrated temperature of a (family, K) (stage "temperatures").
TEMPERATURE = "results/temperatures/{family}_K{K}.json"

SIMPLEX_PROXIMITY_TABLE = "results/simplex_proximity/distances.csv"
SIMPLEX_PROXIMITY_FIGURE = "results/simplex_proximity/distances.png"
SIMPLEX_PROXIMITY_CLAIMS = "results/simplex_proximity/claims.md"

APPROXIMATION = "results/approximations/{target}.json"
APPROXIMATIONS_TABLE = "results/approximations/approximations.csv"
APPROXIMATIONS_FIGURE = "results/approximations/histograms.png"
APPROXIMATIONS_CLAIM = "results/approximations/claim.csv"

#: One VAE run: train.json, history.csv, evaluation.json and the run folder run/.
VAE_RUN = "results/vae/{dataset}/{architecture}/{family}/seed{seed}"
VAE_TABLE = "results/vae/main_table.csv"
VAE_TABLE_MD = "results/vae/main_table.md"
VAE_TABLE_TEX = "results/vae/main_table.tex"
VAE_CLAIMS = "results/vae/claims.md"
VAE_ELBO_FIGURE = "results/vae/test_elbo.png"
VAE_DISTANCE_FIGURE = "results/vae/vertex_distances.png"
VAE_VANISHED_FIGURE = "results/vae/vanished_gradients.png"
VAE_DIAGNOSTICS_FIGURE = "results/vae/diagnostics.png"

#: One SOP run: train.json, evaluation.json and the run folder run/.
SOP_RUN = "results/sop/{dataset}/{family}/seed{seed}"
SOP_TABLE = "results/sop/sop_losses.csv"
SOP_FIGURE = "results/sop/predictions.png"
SOP_CLAIM = "results/sop/claim.csv"

#: Stage "gradients": the toy study's table, its record, figure and claim.
GRADIENTS_TOY_TABLE = "results/gradients/toy.csv"
GRADIENTS_TOY_RECORD = "results/gradients/toy.json"
GRADIENTS_TOY_FIGURE = "results/gradients/toy_bias_variance.png"
GRADIENTS_CLAIMS = "results/gradients/claims.md"
#: One row per trained VAE (gathered from ``{VAE_RUN}/gradients.json``).
GRADIENTS_VAE_TABLE = "results/gradients/vae.csv"

#: The report's own pages (stage "report"): claims at a glance, provenance, HTML tables.
REPORT_DIR = "results/report"
REPORT_LANDING = "results/report/landing.rst"
REPORT_CLAIMS = "results/report/claims.html"
REPORT_PROVENANCE = "results/report/provenance.html"
BENCHMARKS_DIR = "results/benchmarks"

#: Record of a fetched, verified dataset (training rules take it as input).
DATASET_MANIFEST = "results/data/{dataset}.json"


#: The output root of the constants above (the schema's default ``results_dir``).
DEFAULT_ROOT = "results"


class OutputPaths:
    """The paths of this module under another output root: ``OutputPaths("results/paper")
    .VAE_TABLE == "results/paper/vae/main_table.csv"``; same names, same functions."""

    def __init__(self, root: str = DEFAULT_ROOT):
        self.root = str(root).rstrip("/") or DEFAULT_ROOT
        self.logs = "logs" if self.root == DEFAULT_ROOT else f"{self.root}/logs"

    def __getattr__(self, name: str) -> str:
        value = globals().get(name)
        if not name.isupper() or not isinstance(value, str) or name == "DEFAULT_ROOT":
            raise AttributeError(name)
        return self.root + value[len(DEFAULT_ROOT):]

    def log_path(self, rule_name: str, name: str) -> str:
        """Log file of one job: ``<logs>/<rule>/<name>.log``."""
        return f"{self.logs}/{rule_name}/{name}.log"

    def benchmark_path(self, rule_name: str, name: str) -> str:
        """Snakemake's benchmark TSV of one job (wall time, memory): the provenance page."""
        return f"{self.root}/benchmarks/{rule_name}/{name}.tsv"

    def prior_path(self, family: str = "{family}", num_categories: int | str = "{K}") -> str:
        """Prior file of a (family, K), the file the VAE and SOP stages read (spec section 2)."""
        return self.PRIOR.format(family=family, K=num_categories)

    def dataset_manifest(self, dataset: str = "{dataset}") -> str:
        """Record of a fetched, verified dataset (training rules take it as input)."""
        return self.DATASET_MANIFEST.format(dataset=dataset)

    def temperature_path(self, family: str = "{family}", num_categories: int | str = "{K}") -> str:
        """Calibrated temperature of a (family, K), read by the VAE and SOP stages."""
        return self.TEMPERATURE.format(family=family, K=num_categories)
