"""Parameter checks shared by the bijectors and distributions.

Checks run when the distribution is built, on every value that is known statically
(Python numbers, NumPy arrays, constant tensors), and raise a `ValueError` that names the
parameter and the offending value. Values that are only known at run time (variables,
tensors inside a `tf.function`) are checked with assertions when `validate_args=True`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def static_value(tensor):
    """The NumPy value of `tensor` if it is known without running a graph, else None."""
    if isinstance(tensor, tf.Variable):
        return None
    try:
        return tf.get_static_value(tf.convert_to_tensor(tensor))
    except (TypeError, ValueError):
        return None


def static_shape(tensor) -> tf.TensorShape:
    """The static shape of a tensor, variable, array or nested list."""
    shape = getattr(tensor, "shape", None)
    return tf.TensorShape(shape if shape is not None else np.shape(tensor))


def check_positive(name: str, tensor) -> None:
    """Raise `ValueError` if `tensor` is statically known and has an entry <= 0."""
    value = static_value(tensor)
    if value is not None and np.any(~(np.asarray(value) > 0)):
        raise ValueError(f"`{name}` must be > 0, got {np.asarray(value).tolist()}.")


def check_open_unit_interval(name: str, value: float, *, include_one: bool = False) -> float:
    """Return `value` as a float if it lies in (0, 1) (or (0, 1]), else raise `ValueError`."""
    value = float(value)
    upper_ok = value <= 1.0 if include_one else value < 1.0
    if not (value > 0.0 and upper_ok):
        interval = "(0, 1]" if include_one else "(0, 1)"
        raise ValueError(f"`{name}` must lie in {interval}, got {value}.")
    return value


def check_event_size(name: str, tensor, minimum: int, what: str) -> None:
    """Raise `ValueError` if the static size of the last axis of `tensor` is below `minimum`."""
    shape = static_shape(tensor)
    if shape.rank == 0:
        raise ValueError(f"`{name}` must have at least one axis ({what}), got a scalar.")
    size = shape[-1] if shape.rank is not None else None
    if size is not None and size < minimum:
        raise ValueError(f"`{name}` has last axis of size {size}: {what} must be >= {minimum}.")


def check_broadcastable(names: tuple[str, ...], tensors: tuple) -> None:
    """Raise `ValueError` naming the parameters whose static shapes do not broadcast."""
    shape = tf.TensorShape([])
    for name, tensor in zip(names, tensors):
        other = static_shape(tensor)
        try:
            shape = tf.broadcast_static_shape(shape, other)
        except ValueError:
            shapes = ", ".join(f"{n}={static_shape(t)}" for n, t in zip(names, tensors))
            raise ValueError(f"Parameter shapes do not broadcast: {shapes}.") from None


def check_same_event_size(names: tuple[str, str], tensors: tuple) -> None:
    """Raise `ValueError` if two parameters have different static sizes of their last axis."""
    sizes = [static_shape(t) for t in tensors]
    last = [s[-1] if s.rank else None for s in sizes]
    if None not in last and last[0] != last[1]:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must have the same last axis (categories - 1), "
            f"got {last[0]} and {last[1]}."
        )


def as_parameter(value, dtype, name: str):
    """Keep a Python number as it is (its dtype follows the inputs); convert anything else.

    Variables stay variables (TFP's `convert_nonref_to_tensor`), so gradients reach them.
    """
    from tensorflow_probability.python.internal import tensor_util

    if dtype is None and isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return tensor_util.convert_nonref_to_tensor(
        value, dtype=dtype, dtype_hint=tf.float32, name=name
    )


def as_tensor(value, dtype):
    """`value` as a tensor of `dtype` (a Python number, or a parameter of that dtype)."""
    if isinstance(value, float):
        return tf.constant(value, dtype=dtype)
    return tf.convert_to_tensor(value, dtype=dtype)


def check_same_static(name: str, first, second, why: str) -> None:
    """Raise `ValueError` if two statically known parameters differ."""
    a, b = static_value(first), static_value(second)
    if a is not None and b is not None and not np.allclose(a, b):
        raise ValueError(
            f"{why}: `{name}` differs ({np.asarray(a).tolist()} vs {np.asarray(b).tolist()})."
        )
