"""The library's layers: every import of every module (lazy ones included) points downwards.

    base (igr, io, errors, families, commands) < distributions, data < models < training
    < experiments < reporting < pipeline < cli

A module may import its own layer and the layers below; distributions and data share a
layer but do not import each other. Read from the source (ast), so no module is executed.
"""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"

LAYERS = {
    "igr": 0,
    "igr.io": 0,
    "igr.errors": 0,
    "igr.families": 0,
    "igr.commands": 0,
    "igr.distributions": 1,
    "igr.data": 1,
    "igr.models": 2,
    "igr.training": 3,
    "igr.experiments": 4,
    "igr.reporting": 5,
    "igr.pipeline": 6,
    "igr.cli": 7,
    "igr.__main__": 8,
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((SOURCE / "igr").rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _layer_key(module: str) -> str:
    """The longest prefix of ``module`` named in LAYERS."""
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in LAYERS:
            return key
    raise KeyError(f"{module} belongs to no layer: add it to LAYERS in tests/test_layers.py")


def _imports(module: str) -> set[str]:
    """igr modules imported anywhere in ``module`` (``from a import b`` -> a.b if a module)."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {name for name in found if name == "igr" or name.startswith("igr.")}


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer_key(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_downwards(module):
    own = _layer_key(module)
    for imported in sorted(_imports(module)):
        if imported not in MODULES:
            raise AssertionError(f"{module} imports {imported}, which does not exist")
        other = _layer_key(imported)
        assert LAYERS[other] <= LAYERS[own], f"{module} ({own}) imports {imported} ({other})"
        if LAYERS[own] == 1:
            assert own == other or LAYERS[other] == 0, (
                f"{module} imports {imported}: {own} and {other} share a layer and must not"
                " import each other"
            )


def test_no_import_cycle_between_modules():
    """Imports between modules form no cycle (a package's own __init__ re-exports excepted)."""
    graph = {
        module: {
            imported
            for imported in _imports(module)
            if imported in MODULES and not module.startswith(imported + ".")
        }
        for module in MODULES
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module):
        state[module] = 1
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycle = path[path.index(imported):] + [imported]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_experiments_never_draw():
    """Figures are drawn by igr.reporting only: no experiment imports matplotlib or seaborn."""
    for module, path in MODULES.items():
        if module.startswith("igr.experiments"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                for name in names:
                    assert name.split(".")[0] not in ("matplotlib", "seaborn"), module
