"""Strict validation of a pipeline config; every message names its key (or file and line).

JSON schema alone lets through what a YAML file easily says by mistake: a key given twice
(the last one wins), ``5328.0`` where an integer is needed (draft 2020-12 counts it as an
integer), and ``.nan`` or ``.inf`` where a number is needed. :func:`config_problems` applies
the schema with integers that must be ``int`` and numbers that must be finite, then the
checks that span keys; :func:`duplicate_key_problems` reads the config files themselves.
Floats are never converted to integers: ``epochs: 5.0`` is an error that says so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from igr.pipeline.paths import DEFAULT_ROOT


def config_key(path: Iterable[Any]) -> str:
    """Dotted name of a key path: ``['priors', 'families', 0]`` -> ``priors.families[0]``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "<top level>"


# --------------------------------------------------------------------------- YAML files


class _DuplicateKeyLoader(yaml.SafeLoader):
    """A SafeLoader that records every mapping key given twice."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    f"key '{key}' appears twice (lines {seen[key]} and {line}); "
                    "remove one, YAML keeps only the last"
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def duplicate_key_problems(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """One message per key given twice in a mapping of one of the YAML/JSON config files."""
    problems = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            problems.append(f"config file {path}: cannot be read ({error})")
            continue
        loader = _DuplicateKeyLoader(text)
        try:
            loader.get_single_data()
        except yaml.YAMLError as error:
            problems.append(f"config file {path}: not valid YAML ({error})".replace("\n", " "))
            continue
        finally:
            loader.dispose()
        problems += [f"config file {path}: {problem}" for problem in loader.duplicates]
    return problems


# --------------------------------------------------------------------------- schema


def _is_integer(checker, instance) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker, instance) -> bool:
    return (
        isinstance(instance, (int, float))
        and not isinstance(instance, bool)
        and math.isfinite(instance)
    )


StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


def _message(error) -> str:
    instance = error.instance
    if error.validator == "oneOf" and error.context:
        # A number-or-word key (a temperature: a number or "calibrated"): say both.
        if isinstance(instance, str):
            allowed = [c.validator_value for c in error.context if c.validator == "const"]
            if allowed:
                return f"must be a positive number or {' or '.join(map(repr, allowed))}, got {instance!r}"
        numeric = [c for c in error.context if c.validator != "const"]
        if numeric:
            return _message(numeric[0])
    if error.validator == "type" and isinstance(instance, float):
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        if not math.isfinite(instance):
            return f"must be a finite number, got {instance}"
        if "integer" in expected and instance.is_integer():
            return (
                f"must be an integer, got the float {instance} "
                f"(write {int(instance)}; floats are not converted)"
            )
    return error.message


def schema_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every schema violation of ``config`` under the strict types, one per key path."""
    by_key: dict[str, str] = {}
    errors = sorted(
        StrictValidator(schema).iter_errors(config),
        key=lambda e: (list(map(str, e.absolute_path)), e.validator != "type"),
    )
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                name = config_key(path + [key])
                by_key.setdefault(
                    name,
                    f"config key '{name}': unknown key (allowed here: {', '.join(allowed)})",
                )
            continue
        name = config_key(path)
        by_key.setdefault(name, f"config key '{name}': {_message(error)}")
    return [by_key[name] for name in sorted(by_key)]


# --------------------------------------------------------------------------- cross-key checks


def semantic_problems(config: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> list[str]:
    """Checks that JSON schema cannot express (run after the schema passed, defaults filled)."""
    from igr.pipeline.data import data_dir_problems

    problems = results_dir_problems(config.get("results_dir", DEFAULT_ROOT))
    temperatures = config["simplex_proximity"]["temperatures"]
    if list(temperatures) != sorted(set(temperatures)):
        problems.append(
            "config key 'simplex_proximity.temperatures': must be strictly increasing, "
            f"got {temperatures}"
        )
    fixed = config["approximations"]["targets"].get("fixed_pmf")
    if fixed is not None and not sum(fixed["weights"]) > 0:
        problems.append(
            "config key 'approximations.targets.fixed_pmf.weights': all weights are 0, "
            "the target pmf is undefined"
        )
    problems += vae_prior_problems(config)
    problems += gradient_problems(config)
    problems += data_dir_problems(datasets_by_key(config), config, environ)
    return problems


def results_dir_problems(root: str) -> list[str]:
    """The output root must be a relative path inside the working directory."""
    parts = str(root).replace("\\", "/").split("/")
    if str(root).startswith("/") or ".." in parts:
        return [
            f"config key 'results_dir': {root!r} must be a relative path inside the working "
            "directory (no leading '/', no '..'), e.g. results/paper"
        ]
    return []


def vae_prior_problems(config: Mapping[str, Any]) -> list[str]:
    """Every VAE family's prior file must be made by the priors stage, at its K."""
    from igr.families import get_family
    from igr.pipeline.workflow import Pipeline

    pipeline, priors, problems = Pipeline(config), config["priors"], []
    families = pipeline.vae_families()
    for family in families:
        prior_file = get_family(family).prior_file
        if prior_file not in priors["families"]:
            problems.append(
                f"config key 'vae.families' (or 'vae.extra_grids'): {family} needs the "
                f"{prior_file} prior, add it to 'priors.families'"
            )
    needed = sorted({pipeline.vae_num_categories(family) for family in families})
    for k in sorted(set(needed) - set(priors["num_categories"])):
        problems.append(
            f"config key 'priors.num_categories': must include K = {k} "
            "(vae.num_categories / vae.truncation.max_categories)"
        )
    return problems


def gradient_problems(config: Mapping[str, Any]) -> list[str]:
    """The toy study's draws must fill its jackknife blocks; its calibrated temperatures need
    each family's prior at each K from the priors stage."""
    from igr.families import get_family

    toy, priors, problems = config["gradients"]["toy"], config["priors"], []
    if not toy["enabled"]:
        if config["gradients"]["vae"]["enabled"]:
            problems.append(
                "config key 'gradients.vae.enabled': needs gradients.toy.enabled (the toy "
                "study's summary gathers the VAE rows); set both, or gradients.vae.enabled: false"
            )
        return problems
    if toy["num_draws"] < 2 * toy["blocks"]:
        problems.append(
            f"config key 'gradients.toy.num_draws': must be >= 2 x gradients.toy.blocks = "
            f"{2 * toy['blocks']}, got {toy['num_draws']}"
        )
    if toy["calibrated"]:
        for family in toy["families"]:
            prior_file = get_family(family).prior_file
            if prior_file not in priors["families"]:
                problems.append(
                    f"config key 'gradients.toy.families': {family}'s calibrated temperature "
                    f"needs the {prior_file} prior, add it to 'priors.families' (or set "
                    "gradients.toy.calibrated: false)"
                )
        for k in sorted(set(toy["num_categories"]) - set(priors["num_categories"])):
            problems.append(
                f"config key 'priors.num_categories': must include K = {k} "
                "(gradients.toy.num_categories with gradients.toy.calibrated: true)"
            )
    return problems


def datasets_by_key(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The datasets each stage reads, keyed by the config key that names them."""
    vae = config["vae"]
    wanted = {"vae.datasets": list(vae["datasets"]) if vae["families"] else []}
    extra = [d for grid in vae.get("extra_grids", []) for d in grid["datasets"]]
    if extra:
        wanted["vae.extra_grids"] = extra
    sop = config["sop"]
    if sop["families"] and sop["seeds"]:
        wanted["sop.dataset"] = [sop["dataset"]]
    return wanted


def config_problems(
    config: Mapping[str, Any], schema: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> list[str]:
    """Schema problems first; when there are none, the cross-key problems."""
    problems = schema_problems(config, schema)
    return problems or semantic_problems(config, environ)


def invalid_config_message(problems: list[str]) -> str:
    """One line per problem, under a header that says where the config comes from."""
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        "Invalid configuration (config/config.yaml, updated by --configfile/--config):\n"
        f"{lines}"
    )
