import numpy as np
import pytest


@pytest.fixture
def tfp_pad_numpy_compat(monkeypatch):
    """TFP 0.25's `Pad` bijector (inside `SoftmaxCentered`) calls `np.reshape(newshape=...)`,
    which NumPy 2.4 removed; the SLURM executor plugin needs NumPy >= 2.4.5. Give TFP's module
    a NumPy whose `reshape` still accepts `newshape`, for this test only."""
    from tensorflow_probability.python.bijectors import pad

    class _NumpyWithNewshape:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def reshape(a, newshape=None, **kwargs):
            return np.reshape(a, newshape, **kwargs)

    monkeypatch.setattr(pad, "np", _NumpyWithNewshape())
