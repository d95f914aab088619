"""The report's own pages: claims parsed from both formats, HTML that shows them as text."""

from __future__ import annotations

import json
import subprocess
import sys

from igr.reporting.pages import file_page, landing_rst, markdown_to_html, read_claims

MARKDOWN_CLAIMS = """# Claim: IGR beats GS (bound)

- mnist, nonlinear: **supported** (IGR-SB beats GS by 26.7 nats, margin 2.5)
  - Scale: dataset mnist, epochs 40, seeds per family 2; reduced scale.
- digits, linear: **not assessable** (the GS runs are degenerate (posterior collapse))
  - Scale: dataset digits, epochs 5, seeds per family 1; smoke scale.
"""

SHARED_SCALE = """# Claim: IGR nearer the vertices

- sigma0 = 1: **contradicted** (farther at every temperature (0 of 5))
  - tau = 0.05: IGR-I 0.005, GS 0.000
- sigma0 = 3: **supported** (nearer at every temperature (5 of 5))

Scale: K 50, samples per temperature 2000; smoke scale.
"""


def test_markdown_claims_with_their_own_and_a_shared_scale(tmp_path):
    own, shared = tmp_path / "claims.md", tmp_path / "shared.md"
    own.write_text(MARKDOWN_CLAIMS)
    shared.write_text(SHARED_SCALE)
    rows = read_claims(own, "vae")
    assert [(r["subject"], r["verdict"]) for r in rows] == [
        ("mnist, nonlinear", "supported"), ("digits, linear", "not assessable")]
    assert rows[1]["reason"] == "the GS runs are degenerate (posterior collapse)"
    assert rows[0]["scale"].startswith("Scale: dataset mnist") and "smoke" in rows[1]["scale"]
    assert rows[0]["claim"] == "IGR beats GS (bound)"
    shared_rows = read_claims(shared, "simplex")
    assert [r["verdict"] for r in shared_rows] == ["contradicted", "supported"]
    assert all(r["scale"] == "Scale: K 50, samples per temperature 2000; smoke scale."
               for r in shared_rows)


def test_csv_claims(tmp_path):
    path = tmp_path / "claim.csv"
    path.write_text('claim,verdict,reason,scale\nIGR has lower SOP loss,inconclusive,"a, b",'
                    "Scale: 1 seed\n")
    (row,) = read_claims(path, "sop")
    assert (row["verdict"], row["reason"], row["scale"]) == ("inconclusive", "a, b", "Scale: 1 seed")


def test_pages_render_tables_and_verdicts_as_html(tmp_path):
    body = markdown_to_html("| a | b |\n|---|---|\n| 1 | **supported** |\n")
    assert "<table>" in body and '<span class="supported">supported</span>' in body
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("family,bound\nGS,-127.0\n")
    page = file_page(csv_path)
    assert "<td>GS</td>" in page and "-127" in page and "t.csv" in page
    rst = landing_rst("Intro {{ snakemake.config['x'] }}", read_claims_from(tmp_path))
    assert rst.startswith("Intro {{") and ".. raw:: html" in rst and "Claims at a glance" in rst
    assert "{" not in rst.split(".. raw:: html", 1)[1].replace("{{", "").split("</style>", 1)[1]


def read_claims_from(tmp_path):
    path = tmp_path / "claims.md"
    path.write_text(MARKDOWN_CLAIMS.replace("margin 2.5", "margin {2.5}"))
    return read_claims(path, "vae")


def test_igr_report_pages_writes_every_page(tmp_path):
    claims = tmp_path / "claims.md"
    claims.write_text(MARKDOWN_CLAIMS)
    description = tmp_path / "workflow.rst"
    description.write_text("About this run.\n")
    bench = tmp_path / "benchmarks" / "train_vae"
    bench.mkdir(parents=True)
    (bench / "digits_gs.tsv").write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t800.0\n")
    manifest = tmp_path / "mnist.json"  # as igr data fetch --manifest writes it
    manifest.write_text(json.dumps({"dataset": "mnist", "data_dir": "/d", "files": [
        {"name": "train-images-idx3-ubyte.gz", "path": "/d/mnist/train-images-idx3-ubyte.gz",
         "sha256_of_content": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
         "content_bytes": 47040016}]}))
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "igr", "report", "pages", "--claims", f"discrete VAEs={claims}",
         "--page", f"{claims}={out / 'pages' / 'vae_claims.html'}",
         "--manifests", str(manifest),
         "--benchmarks", str(tmp_path / "benchmarks"), "--config-json",
         json.dumps({"results_dir": "results", "vae": {"epochs": 5}}),
         "--description", str(description), "--output-dir", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    glance = (out / "claims.html").read_text()
    assert glance.count('<span class="supported">') == 1 and "not-assessable" in glance
    provenance = (out / "provenance.html").read_text()
    for text in ("git commit", "tensorflow", "train_vae", "12.5", "epochs: 5", "Python",
                 "train-images-idx3-ubyte.gz",
                 "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"):
        assert text in provenance, text
    assert "IGR beats GS" in (out / "pages" / "vae_claims.html").read_text()
    assert (out / "landing.rst").read_text().startswith("About this run.")
