"""The ``slurm`` profile without a cluster: settings, local rules, resources per rule, and
the paper's dry run (``snakemake --profile slurm --configfile config/paper.yaml -n``)."""

from __future__ import annotations

import re

import yaml
from slurm_helpers import (
    PROFILE,
    REPO_ROOT,
    copy_workflow,
    planned_jobs,
    profile_settings,
    run_command,
    snakemake_args,
    tool_environment,
)

#: Issue 7: the paper's dry run under the profile, with every job's resources.
PAPER_DRY_RUN_TARGET_S = 15.0
#: Rules that must run on the submit host (data download, aggregation, the target).
LOCAL_RULE = re.compile(r"^(all|fetch_data|summarize_\w+|report_pages)$")
#: Rules that train a model and checkpoint (requeued on preemption).
TRAINING_RULE = re.compile(r"^train_\w+$")


def test_profile_sets_the_cluster_settings():
    settings = profile_settings()
    assert settings["executor"] == "slurm"
    assert settings["slurm-status-command"] == "sacct"
    assert settings["slurm-keep-successful-logs"] is True
    assert settings["rerun-incomplete"] is True
    assert settings["latency-wait"] >= 30
    assert settings["jobs"] >= 1
    assert {"mem_mb", "runtime"} <= set(settings["default-resources"])


def test_every_profile_setting_is_commented():
    """Each setting line carries a comment, or the line above it is one."""
    lines = PROFILE.read_text().splitlines()
    uncommented = [
        line for index, line in enumerate(lines)
        if re.match(r"^\s*[\w-]+:", line) and "#" not in line
        and not (index and lines[index - 1].lstrip().startswith("#"))
    ]
    assert uncommented == []


def test_no_workflow_profile_replaces_the_default_resources():
    """A workflow profile replaces whole top-level keys of the user's profile: the shipped
    one (profiles/default) sets rerun-incomplete only, never default-resources."""
    assert not (REPO_ROOT / "workflow" / "profiles" / "default").exists()
    workflow_profile = yaml.safe_load((REPO_ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert workflow_profile == {"rerun-incomplete": True}
    assert yaml.safe_load(PROFILE.read_text())["rerun-incomplete"] is True
    assert "default-resources" not in PROFILE.read_text().split("default-resources:", 1)[1]


def declared_rules() -> dict[str, bool]:
    """Every rule of the workflow -> whether it is declared local (``localrule: True`` in
    its body or listed by a ``localrules:`` directive). A dry run does not say which jobs
    are local; the real-cluster test checks the same from the run's log."""
    sources = [REPO_ROOT / "Snakefile", *sorted((REPO_ROOT / "rules").glob("*.smk"))]
    rules, listed = {}, set()
    for path in sources:
        text = path.read_text()
        for block in re.finditer(r"^localrules:\s*\n((?:[ \t]+[\w, \t]+\n)+)", text, re.MULTILINE):
            listed |= set(re.findall(r"\w+", block.group(1)))
        for match in re.finditer(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, re.MULTILINE):
            rules[match.group(1)] = bool(re.search(r"^\s+localrule: True", match.group(2), re.MULTILINE))
    return {name: local or name in listed for name, local in rules.items()}


def test_data_and_aggregation_rules_are_local_and_the_rest_are_not():
    rules = declared_rules()
    assert {"all", "fetch_data", "summarize_priors"} <= set(rules)
    wrong = {name: local for name, local in rules.items() if local != bool(LOCAL_RULE.match(name))}
    assert wrong == {}


def dry_run(tmp_path, *args):
    workdir = copy_workflow(tmp_path / "igr")
    result = run_command(snakemake_args("--profile", "slurm", "-n", *args), workdir,
                         tool_environment(), timeout=120)
    assert result.returncode == 0, result.output
    assert re.search(r"Using profiles? slurm\b", result.output), result.output[-2000:]
    return result, planned_jobs(result.output)


def test_default_dry_run_resources(tmp_path):
    _, jobs = dry_run(tmp_path)
    assert jobs, "no job planned"
    local = declared_rules()
    for job in jobs:
        if not local[job.rule]:
            assert {"mem_mb", "runtime"} <= set(job.resources), job
        if TRAINING_RULE.match(job.rule):
            assert job.resources.get("slurm_extra") == "--requeue", job
            assert "gpu" not in job.resources, job  # the default config runs on CPUs


def test_paper_dry_run_lists_every_job_with_resources(tmp_path, record_property):
    # --cores: without it Snakemake's dry run assumes 1 core and caps every job's threads at
    # 1 in the printed commands (a real SLURM run is not capped); the README says so.
    result, jobs = dry_run(tmp_path, "--configfile", "config/paper.yaml", "--cores", "64")
    paper = yaml.safe_load((REPO_ROOT / "config" / "paper.yaml").read_text())["resources"]
    threads_seen = 0
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", result.output):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        command = re.search(r"^Shell command: .*", block, re.M)
        if not rule or not command or "--threads" not in command[0]:
            continue
        expected = {**paper["default"], **paper.get(rule[1], {})}["threads"]
        printed = int(re.search(r"--threads (\d+)", command[0])[1])
        assert printed == expected, (rule[1], printed, expected)
        threads_seen += expected > 1
    assert threads_seen > 100, "no job printed the 2 threads paper.yaml asks for"
    counts = {}
    local = declared_rules()
    for job in jobs:
        counts[job.rule] = counts.get(job.rule, 0) + 1
        if local[job.rule]:
            continue
        block = {**paper["default"], **paper.get(job.rule, {})}
        assert int(job.resources["mem_mb"]) == block["mem_mb"], job
        assert int(job.resources["runtime"]) == block["runtime"], job
        if TRAINING_RULE.match(job.rule):
            assert job.resources["gpu"] == "1", job
            assert job.resources["slurm_extra"] == "--requeue", job
    record_property("paper_dry_run_s", round(result.wall_s, 2))
    record_property("paper_dry_run_jobs", len(jobs))
    print(f"paper dry run under the slurm profile: {len(jobs)} jobs in {result.wall_s:.1f} s;"
          f" per rule: {dict(sorted(counts.items()))}")
    assert result.wall_s < PAPER_DRY_RUN_TARGET_S
