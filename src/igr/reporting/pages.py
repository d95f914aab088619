"""The report's own pages: claims at a glance, provenance, and every table and claim as HTML.

``igr report pages`` reads what the stages wrote and writes, atomically:

- ``claims.html``: one row per paper claim (stage, claim, subject, verdict, reason, the
  run's scale, the evidence file); the same table is embedded in ``landing.rst``, the
  report's first page (the workflow description of ``workflow/report/workflow.rst``
  followed by the table), which the Snakefile uses once it exists;
- ``provenance.html``: igr version and commit with the dirty flag, Python and package
  versions, OS, CPU and GPUs (:mod:`igr.provenance`), the resolved config, the data
  checksums from the dataset manifests, and the wall time of every job from Snakemake's
  benchmark files;
- one HTML page per table (CSV) and claim (Markdown or CSV) given with ``--page``, so that
  the report shows them as text instead of download links.

Claims are read from the two formats the stages write: a CSV with columns ``claim,
verdict, reason, scale``, or Markdown with a ``# Claim: ...`` title and items
``- subject: **verdict** (reason)``, each followed by an indented ``- Scale: ...`` line or
sharing a ``Scale: ...`` paragraph that follows them.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from igr.commands import command_group
from igr.io import read_json, write_text_atomic
from igr.reporting.verdicts import VERDICTS

_ITEM = re.compile(r"^- (?P<subject>[^:]+): \*\*(?P<verdict>[a-z ]+)\*\* \((?P<reason>.*)\)\s*$")
STYLE = (
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #bbb;padding:0.3em 0.6em;text-align:left;vertical-align:top}"
    "th{background:#eee}pre{background:#f6f6f6;padding:0.8em;overflow:auto}"
    ".supported{color:#1a7f37;font-weight:bold}.contradicted{color:#b42318;font-weight:bold}"
    ".inconclusive{color:#9a6700;font-weight:bold}"
    ".not-assessable{color:#57606a;font-weight:bold}"
)


def read_claims(path: str | Path, stage: str) -> list[dict[str, str]]:
    """Every claim line of one stage's claim file (module docstring)."""
    path = Path(path)
    rows: list[dict[str, str]] = []
    if path.suffix == ".csv":
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            rows.append({"stage": stage, "claim": row["claim"], "subject": "",
                         "verdict": row["verdict"], "reason": row["reason"],
                         "scale": row.get("scale", ""), "evidence": str(path)})
        return rows
    claim = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Claim: "):
            claim = line[len("# Claim: "):].strip()
        elif match := _ITEM.match(line):
            rows.append({"stage": stage, "claim": claim, "subject": match["subject"],
                         "verdict": match["verdict"], "reason": match["reason"], "scale": "",
                         "evidence": str(path)})
        elif line.startswith("  - Scale") and rows and not rows[-1]["scale"]:
            rows[-1]["scale"] = line[4:].strip()
        elif line.startswith("Scale"):  # one scale for every item above it
            for row in rows:
                row["scale"] = row["scale"] or line.strip()
    return rows


def verdict_html(verdict: str) -> str:
    css = verdict.replace(" ", "-") if verdict in VERDICTS else ""
    return f'<span class="{css}">{html.escape(verdict)}</span>'


def glance_table(claims: Sequence[dict[str, str]]) -> str:
    """The HTML table of claims at a glance."""
    header = ("Stage", "Claim", "Subject", "Verdict", "Reason", "Scale of this run", "Evidence")
    lines = ['<table class="claims-at-a-glance">',
             "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"]
    for row in claims:
        cells = [html.escape(row["stage"]), html.escape(row["claim"]),
                 html.escape(row["subject"]), verdict_html(row["verdict"]),
                 html.escape(row["reason"]), html.escape(row["scale"]),
                 f"<code>{html.escape(row['evidence'])}</code>"]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def markdown_to_html(text: str) -> str:
    """The Markdown the stages write: headings, nested lists, pipe tables, **bold**."""
    out: list[str] = []
    depth = 0
    table: list[list[str]] = []

    def inline(value: str) -> str:
        value = html.escape(value)
        value = re.sub(r"\*\*(.+?)\*\*", lambda m: verdict_html(m[1]) if m[1] in VERDICTS
                       else f"<strong>{m[1]}</strong>", value)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", value)

    def flush_table() -> None:
        if table:
            rows = [r for r in table if not all(set(c) <= set("-: ") for c in r)]
            out.append("<table>")
            for index, row in enumerate(rows):
                tag = "th" if index == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in row) + "</tr>")
            out.append("</table>")
            table.clear()

    def close_lists(to: int) -> None:
        nonlocal depth
        while depth > to:
            out.append("</ul>")
            depth -= 1

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            close_lists(0)
            table.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        flush_table()
        if match := re.match(r"^( *)- (.*)$", line):
            level = len(match[1]) // 2 + 1
            while depth < level:
                out.append("<ul>")
                depth += 1
            close_lists(level)
            out.append(f"<li>{inline(match[2])}</li>")
            continue
        close_lists(0)
        if stripped.startswith("#"):
            hashes = len(stripped) - len(stripped.lstrip("#"))
            out.append(f"<h{hashes + 1}>{inline(stripped[hashes:].strip())}</h{hashes + 1}>")
        elif stripped:
            out.append(f"<p>{inline(stripped)}</p>")
    flush_table()
    close_lists(0)
    return "\n".join(out)


def file_page(path: str | Path) -> str:
    """One table (CSV) or claim/table (Markdown) as an HTML page naming its file."""
    path = Path(path)
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        body = frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.6g}",
                             escape=True, border=0)
        for verdict in VERDICTS:
            body = body.replace(f"<td>{verdict}</td>", f"<td>{verdict_html(verdict)}</td>")
    else:
        body = markdown_to_html(path.read_text(encoding="utf-8"))
    return page(path.name, f"<p>Source: <code>{html.escape(str(path))}</code></p>\n{body}")


def benchmark_rows(benchmark_dir: Path) -> list[dict[str, object]]:
    """Wall time (s) and peak memory (MB) of each job from Snakemake's benchmark TSVs."""
    rows = []
    for path in sorted(benchmark_dir.rglob("*.tsv")) if benchmark_dir.is_dir() else []:
        frame = pd.read_csv(path, sep="\t")
        if frame.empty or "s" not in frame:
            continue
        rows.append({"rule": path.parent.name, "job": path.stem,
                     "wall_s": float(frame["s"].iloc[-1]),
                     "max_rss_mb": float(frame["max_rss"].iloc[-1])
                     if "max_rss" in frame and pd.notna(frame["max_rss"].iloc[-1]) else None})
    return rows


def provenance_page(config: dict, manifests: Sequence[Path], benchmark_dir: Path) -> str:
    from igr import provenance

    import yaml

    block = provenance.collect()
    code = block["igr"]
    dirty = {True: "yes (uncommitted changes)", False: "no", None: "unknown"}[code["dirty"]]
    parts = ["<h2>Code</h2>", "<table>",
             f"<tr><th>igr version</th><td>{html.escape(code['version'])}</td></tr>",
             f"<tr><th>git commit</th><td><code>{html.escape(str(code['commit']))}</code></td></tr>",
             f"<tr><th>dirty</th><td>{dirty}</td></tr>",
             f"<tr><th>Python</th><td>{block['python']}</td></tr>", "</table>",
             "<h2>Packages</h2>", "<table>"]
    parts += [f"<tr><th>{html.escape(n)}</th><td>{html.escape(str(v))}</td></tr>"
              for n, v in block["packages"].items()]
    machine = block["platform"]
    parts += ["</table>", "<h2>Machine (where this page was built)</h2>", "<table>",
              f"<tr><th>OS</th><td>{html.escape(machine['system'])}</td></tr>",
              f"<tr><th>CPU</th><td>{html.escape(machine['cpu'])} x {machine['cpu_count']}</td></tr>",
              f"<tr><th>GPUs</th><td>{html.escape(', '.join(machine['gpus']) or 'none')}</td></tr>",
              "</table>", "<p>Every run record (train.json, evaluation.json, prior, temperature "
              "and approximation records) carries the same block for the machine it ran on.</p>",
              "<h2>Data</h2>", "<table><tr><th>dataset</th><th>file</th><th>sha256</th></tr>"]
    for manifest_path in manifests:
        manifest = read_json(manifest_path)
        files = manifest.get("files") or []
        if not files:
            parts.append(f"<tr><td>{html.escape(manifest['dataset'])}</td><td colspan=2>"
                         "bundled with scikit-learn "
                         f"{html.escape(str(block['packages'].get('scikit-learn')))}</td></tr>")
        for entry in files:
            parts.append(f"<tr><td>{html.escape(manifest['dataset'])}</td>"
                         f"<td>{html.escape(entry['name'])}</td>"
                         f"<td><code>{html.escape(str(entry['sha256_of_content']))}</code></td></tr>")
    parts.append("</table>")
    jobs = benchmark_rows(benchmark_dir)
    parts.append("<h2>Wall time per job (Snakemake benchmarks)</h2>")
    if jobs:
        frame = pd.DataFrame(jobs)
        per_rule = frame.groupby("rule")["wall_s"].agg(["count", "sum", "median", "max"])
        per_rule.columns = ["jobs", "total s", "median s", "max s"]
        parts.append(per_rule.to_html(float_format=lambda v: f"{v:.1f}", border=0))
        parts.append(f"<p>All jobs: {frame['wall_s'].sum():.0f} s of job time.</p>")
    else:
        parts.append("<p>No benchmark files yet.</p>")
    parts += ["<h2>Resolved config</h2>",
              "<p>Every key with the schema's defaults filled in, except <code>resources</code> "
              "and <code>data</code> (where jobs ran and where the data lives change no "
              "result).</p>",
              f"<pre>{html.escape(yaml.safe_dump(config, sort_keys=False))}</pre>"]
    return page("Provenance", "\n".join(parts))


def landing_rst(description: str, claims: Sequence[dict[str, str]]) -> str:
    """The report's first page: the workflow description, then the claims at a glance."""
    table = glance_table(claims).replace("{", "&#123;").replace("}", "&#125;")
    indented = "\n".join("   " + line for line in table.splitlines())
    return (f"{description.rstrip()}\n\nClaims at a glance\n------------------\n\n"
            "One row per paper claim of this run, with its verdict (supported, contradicted, "
            "inconclusive, not assessable), the reason in words and the scale of the run; "
            "the evidence is the stage's claim file, shown under its category.\n\n"
            f".. raw:: html\n\n   <style>{STYLE}</style>\n{indented}\n")


def _run_pages(args: argparse.Namespace) -> int:
    claims: list[dict[str, str]] = []
    for entry in args.claims:
        stage, _, path = entry.partition("=")
        claims += read_claims(path, stage)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    body = ("<p>One row per paper claim; verdicts: supported, contradicted, inconclusive, "
            "not assessable.</p>\n" + glance_table(claims))
    write_text_atomic(args.output_dir / "claims.html", page("Claims at a glance", body))
    description = Path(args.description).read_text(encoding="utf-8")
    write_text_atomic(args.output_dir / "landing.rst", landing_rst(description, claims))
    config = json.loads(args.config_json)
    write_text_atomic(args.output_dir / "provenance.html",
                      provenance_page(config, args.manifests, args.benchmarks))
    for entry in args.page:
        source, _, target = entry.partition("=")
        write_text_atomic(target, file_page(source))
    print(f"igr report pages: {len(claims)} claims, {len(args.page)} pages -> {args.output_dir}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr report pages``."""
    parser = command_group(
        subparsers, "report", help="the report's own pages (claims at a glance, provenance)"
    ).add_parser(
        "pages", help="claims at a glance, provenance, tables and claims as HTML"
    )
    parser.add_argument("--claims", nargs="+", default=[], metavar="STAGE=FILE",
                        help="claim files of the stages (Markdown or CSV)")
    parser.add_argument("--page", nargs="*", default=[], metavar="SOURCE=TARGET",
                        help="a table or claim file and the HTML page to write for it")
    parser.add_argument("--manifests", nargs="*", default=[], type=Path,
                        help="dataset manifests (results/data/*.json) whose checksums to show")
    parser.add_argument("--benchmarks", type=Path, required=True,
                        help="folder of Snakemake's benchmark TSV files")
    parser.add_argument("--config-json", required=True,
                        help="the resolved config of the run, as JSON")
    parser.add_argument("--description", type=Path, required=True,
                        help="the workflow description (workflow/report/workflow.rst)")
    parser.add_argument("--output-dir", type=Path, required=True,
                        help="folder of claims.html, provenance.html and landing.rst")
    parser.set_defaults(func=_run_pages)
