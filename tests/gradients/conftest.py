"""Fixtures of the gradient-study tests: the VAE tests' prior files."""

from tests.vae.conftest import prior_files  # noqa: F401 (a fixture)
