"""The `igr` entry point keeps TensorFlow's start-up banner out of job logs, and its
start-up short (no Keras 3 import)."""

from __future__ import annotations

import os
import subprocess
import sys

from igr.quiet import is_banner

BANNER_LINES = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"I0000 00:00:1796195378.717540    7098 port.cc:153] oneDNN custom operations are on.",
    b"I0000 00:00:1796195378.717887    7098 cudart_stub.cc:31] Could not find cuda drivers",
)


def test_banner_lines_are_recognised_and_others_kept():
    assert all(is_banner(line) for line in BANNER_LINES)
    for kept in (b"Traceback (most recent call last):", b"epoch 1/5 | elapsed 3s",
                 b"E0000 00:00:1796195378.7 7098 port.cc:153] a real error"):
        assert not is_banner(kept)


def _run_igr_with_stage(stage_body: str, environ=None) -> subprocess.CompletedProcess:
    """The console script's path through main(), with a subcommand replaced by a function
    ``stage(args)`` whose body is ``stage_body`` (lines indented by four spaces)."""
    code = (
        "import sys, igr.cli as cli\n"
        "def stage(args):\n"
        f"{stage_body}"
        "    return 0\n"
        "parser = cli.build_parser\n"
        "def build(*modules):\n"
        "    p = parser(*modules); p.set_defaults(func=stage); return p\n"
        "cli.build_parser = build\n"
        "sys.argv = ['igr']\n"
        "sys.exit(cli.main())\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, env=environ,
                          timeout=120)


def _run_igr_importing_tensorflow(environ: dict[str, str]) -> subprocess.CompletedProcess:
    """A stage that imports TensorFlow, runs an op and writes to stderr from Python and
    from C; stdout says whether Keras 3 (``keras.src``) was imported."""
    return _run_igr_with_stage(
        "    import os, tensorflow as tf\n"
        "    float(tf.reduce_sum(tf.ones([3])))\n"
        "    print('python line', file=sys.stderr)\n"
        "    os.write(2, b'raw fd line\\n')\n"
        "    print('keras 3 imported:', 'keras.src' in sys.modules)\n",
        environ,
    )


def test_entry_point_drops_the_banner_and_keeps_everything_else():
    environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = _run_igr_importing_tensorflow(environ)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stderr.splitlines()
    assert b"python line" in lines and b"raw fd line" in lines, done.stderr
    assert not any(is_banner(line) for line in lines), done.stderr


def test_level_zero_keeps_the_full_output():
    done = _run_igr_importing_tensorflow({**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert done.returncode == 0, done.stderr.decode()
    assert any(is_banner(line) for line in done.stderr.splitlines()), done.stderr


def test_entry_point_imports_tensorflow_without_keras_3():
    environ = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = _run_igr_importing_tensorflow(environ)
    assert done.returncode == 0, done.stderr.decode()
    assert b"keras 3 imported: False" in done.stdout.splitlines(), done.stdout


def test_entry_point_respects_the_users_keras_setting():
    done = _run_igr_importing_tensorflow({**os.environ, "TF_USE_LEGACY_KERAS": "0"})
    assert done.returncode == 0, done.stderr.decode()
    assert b"keras 3 imported: True" in done.stdout.splitlines(), done.stdout


def test_entry_point_leaves_tfp_experimental_unloaded():
    """TFP imported before TensorFlow loads its subpackages on first use (igr.cli)."""
    done = _run_igr_with_stage(
        "    import tensorflow as tf, tensorflow_probability as tfp\n"
        "    tfp.distributions.Normal(0.0, 1.0).sample(seed=(1, 2))\n"
        "    print('experimental loaded:',\n"
        "          'tensorflow_probability.python.experimental' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"experimental loaded: False" in done.stdout.splitlines(), done.stdout
