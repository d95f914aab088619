"""Every ``tf.function`` in igr is built with ``autograph=False`` (igr.training.compiled).

AutoGraph's conversion cost about 1 s per trace of a VAE step and igr's graph code has no
Python control flow on tensors. Read from the source (ast), so no module is executed.
"""

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "igr"


def _is_tf_function(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "function"
        and isinstance(node.value, ast.Name)
        and node.value.id == "tf"
    )


def _tf_function_uses(tree: ast.AST):
    """(line, keywords) of every ``tf.function(...)`` call and bare ``@tf.function``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_tf_function(node.func):
            yield node.lineno, {k.arg: k.value for k in node.keywords}
        decorators = getattr(node, "decorator_list", [])
        for decorator in decorators:
            if _is_tf_function(decorator):  # bare @tf.function: AutoGraph on
                yield decorator.lineno, {}


def test_every_tf_function_turns_autograph_off():
    uses, offending = 0, []
    for path in sorted(SOURCE.rglob("*.py")):
        for line, keywords in _tf_function_uses(ast.parse(path.read_text())):
            uses += 1
            value = keywords.get("autograph")
            if not (isinstance(value, ast.Constant) and value.value is False):
                offending.append(f"{path.relative_to(SOURCE)}:{line}")
    assert uses >= 8, "the scan found too few tf.function uses: is SOURCE right?"
    assert not offending, f"tf.function without autograph=False: {offending}"


def test_the_scan_sees_a_bare_decorator_and_a_missing_keyword():
    tree = ast.parse(
        "@tf.function\ndef f(x):\n    return x\n"
        "g = tf.function(f, jit_compile=True)\n"
        "h = tf.function(f, autograph=False)\n"
    )
    found = sorted((line, "autograph" in keywords) for line, keywords in _tf_function_uses(tree))
    assert found == [(1, False), (4, False), (5, True)]
