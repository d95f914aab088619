"""XLA compilation of IGR-I's fused elementwise kernels (forward and backward passes).

TensorFlow runs a graph op by op: every elementwise op is one pass over memory through a
generic kernel. Compiled by XLA, a whole kernel (softmax, log-density, reductions) becomes
one loop for the machine's own vector unit; in the IGR-I benchmark step on a 2-core CPU
that takes the family from about 0.94x to 1.03-1.07x TFP's `RelaxedOneHotCategorical` at
K = 50 and from 1.05x to 1.09x at K = 10 (benchmarks/bench_distributions.py). Random draws
stay outside: TensorFlow's own stateless kernels are faster than XLA's for sin and the
uniform draws. The stick-breaking kernels stay op by op (see `igr_stick_breaking`).

Each new input shape compiles once (a fraction of a second). Set the environment variable
`IGR_XLA=0` before importing `igr` to run the same kernels op by op, e.g. on a platform
without XLA; the results agree to rounding (tests check both).
"""

from __future__ import annotations

import os

import tensorflow as tf

XLA_ENABLED = os.environ.get("IGR_XLA", "1").strip().lower() not in ("0", "false", "no", "off")


def compiled(function):
    """`function` compiled by XLA as one cluster, or `function` itself when `IGR_XLA=0`."""
    if not XLA_ENABLED:
        return function
    return tf.function(function, jit_compile=True, autograph=False)
