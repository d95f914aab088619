"""Generated 16x16 binary images with a known discrete latent code: the default VAE dataset.

Each image is drawn from a generative model with four categorical variables of ten
categories each, which is what a discrete VAE is built to recover:

    c_f ~ Uniform{0..9}, f = 1..4                 (one variable per 8x8 quadrant)
    x_p | c ~ Bernoulli(0.95 if T[f(p), c_f, p] else 0.05)

where ``T[f, c]`` is a fixed binary 8x8 glyph (drawn once from :data:`TEMPLATE_SEED`, any two
glyphs of a quadrant differing in at least :data:`MIN_GLYPH_DISTANCE` pixels). Because the
model is known, so is the exact log-likelihood of every image (:func:`log_likelihood`):

    log p(x) = sum_f log( 1/10 sum_c prod_{p in f} Bernoulli(x_p; T[f, c, p]) ),

about -60 nats on average (4 log 10 = 9.2 nats of code plus 256 H(0.05) = 51 nats of
pixel noise), against about -167 nats for independent pixels, the best a decoder that
ignores its code can do. A discrete VAE's bound lies between the two; a collapsed
posterior (KL 0) sits at the second.

Measured with the default settings (nonlinear networks, V = 20, K = 10, 1,200 Adam steps):
without KL warm-up GS and IGR-I both collapsed (also at tau 0.5 and 0.67, and on 8x8
images with 4x4 glyphs), so config/config.yaml warms the KL weight up over 1,000 steps.

The images are generated, not downloaded: the same seeds give the same arrays on every
machine (numpy's PCG64), so the dataset needs no files and no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays

NUM_TRAIN = 10000
NUM_TEST = 1000
NUM_FACTORS = 4
NUM_CATEGORIES = 10
GRID = 2  # factors per side: GRID x GRID blocks, one factor each
BLOCK = 8  # pixels per side of a factor's glyph
SIDE = GRID * BLOCK  # pixels per side of an image
ON_PROBABILITY = 0.95
MIN_GLYPH_DISTANCE = 16
TEMPLATE_SEED = 20201
SAMPLE_SEED = 20202


def glyphs() -> np.ndarray:
    """The templates ``T``, bool ``[factor, category, BLOCK, BLOCK]``, fixed by :data:`TEMPLATE_SEED`."""
    rng = np.random.default_rng(TEMPLATE_SEED)
    result = np.zeros((NUM_FACTORS, NUM_CATEGORIES, BLOCK, BLOCK), dtype=bool)
    for factor in range(NUM_FACTORS):
        chosen: list[np.ndarray] = []
        while len(chosen) < NUM_CATEGORIES:
            candidate = rng.random(BLOCK * BLOCK) < 0.5
            if all(np.sum(candidate != other) >= MIN_GLYPH_DISTANCE for other in chosen):
                chosen.append(candidate)
        result[factor] = np.reshape(chosen, (NUM_CATEGORIES, BLOCK, BLOCK))
    return result


def _quadrants(images: np.ndarray) -> np.ndarray:
    """``[N, SIDE, SIDE]`` -> ``[N, factor, BLOCK^2]``, factors in row-major block order."""
    n = images.shape[0]
    blocks = images.reshape(n, GRID, BLOCK, GRID, BLOCK).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(n, NUM_FACTORS, BLOCK * BLOCK)


def _images_from_quadrants(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    grid = blocks.reshape(n, 2, 2, BLOCK, BLOCK).transpose(0, 1, 3, 2, 4)
    return grid.reshape(n, SIDE, SIDE)


def sample(num_images: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(images float32 [N, SIDE, SIDE, 1] in {0, 1}, codes int64 [N, 4])`` from the model above."""
    templates = glyphs().reshape(NUM_FACTORS, NUM_CATEGORIES, BLOCK * BLOCK)
    codes = rng.integers(0, NUM_CATEGORIES, size=(num_images, NUM_FACTORS))
    on = templates[np.arange(NUM_FACTORS), codes]  # [N, factor, BLOCK^2]
    probability = np.where(on, ON_PROBABILITY, 1.0 - ON_PROBABILITY)
    blocks = rng.random(probability.shape) < probability
    images = _images_from_quadrants(blocks).astype(np.float32)[..., np.newaxis]
    return images, codes.astype(np.int64)


def log_likelihood(images: np.ndarray) -> np.ndarray:
    """Exact ``log p(x)`` in nats of binary images ``[N, SIDE, SIDE(, 1)]`` under the model (float64)."""
    x = _quadrants(np.asarray(images).reshape(-1, SIDE, SIDE) > 0.5)  # [N, factor, BLOCK^2]
    templates = glyphs().reshape(NUM_FACTORS, NUM_CATEGORIES, BLOCK * BLOCK)
    agree = x[:, :, np.newaxis, :] == templates[np.newaxis]  # [N, factor, category, BLOCK^2]
    log_pixel = np.where(agree, np.log(ON_PROBABILITY), np.log1p(-ON_PROBABILITY))
    log_given_code = log_pixel.sum(axis=-1) - np.log(NUM_CATEGORIES)  # [N, factor, category]
    peak = log_given_code.max(axis=-1, keepdims=True)
    per_factor = peak[..., 0] + np.log(np.exp(log_given_code - peak).sum(axis=-1))
    return per_factor.sum(axis=-1)


def read_codes(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    """Train and test images; the label of an image is the category of its first factor."""
    del folder, contents  # generated: no files
    x_train, codes_train = sample(NUM_TRAIN, np.random.default_rng(SAMPLE_SEED))
    x_test, codes_test = sample(NUM_TEST, np.random.default_rng(SAMPLE_SEED + 1))
    return DatasetArrays(
        x_train=x_train, y_train=codes_train[:, 0], x_test=x_test, y_test=codes_test[:, 0]
    )
