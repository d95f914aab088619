"""Shared test set-up: quiet TensorFlow, float64 by default for numerical checks."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
