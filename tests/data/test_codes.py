"""The generated "codes" dataset (igr.data.codes): fixed arrays, glyphs as documented, and an
exact log-likelihood checked against a brute-force sum over all 10^4 codes."""

from __future__ import annotations

import itertools

import numpy as np

from igr.data import codes, load_arrays


def test_arrays_are_fixed_binary_and_shaped_as_registered():
    first, second = load_arrays("codes"), load_arrays("codes")
    assert first.x_train.shape == (codes.NUM_TRAIN, 16, 16, 1)
    assert first.x_test.shape == (codes.NUM_TEST, 16, 16, 1)
    assert set(np.unique(first.x_train)) == {0.0, 1.0}
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert not np.array_equal(first.x_train[: codes.NUM_TEST], first.x_test)
    assert set(np.unique(first.y_train)) == set(range(codes.NUM_CATEGORIES))


def test_glyphs_are_distinct_by_the_documented_distance():
    templates = codes.glyphs().reshape(codes.NUM_FACTORS, codes.NUM_CATEGORIES, -1)
    for factor in templates:
        for a, b in itertools.combinations(factor, 2):
            assert np.sum(a != b) >= codes.MIN_GLYPH_DISTANCE


def test_label_is_the_first_factor_and_images_follow_their_glyphs():
    images, labels = codes.sample(200, np.random.default_rng(0))
    templates = codes.glyphs().astype(np.float32)
    top_left = images[:, : codes.BLOCK, : codes.BLOCK, 0]
    agreement = np.mean(top_left == templates[0][labels[:, 0]])
    assert abs(agreement - codes.ON_PROBABILITY) < 0.01


def _brute_force_log_likelihood(image: np.ndarray) -> float:
    """log sum over all 10^4 codes c of p(c) p(x | c), pixel by pixel."""
    templates = codes.glyphs()
    x = image.reshape(codes.SIDE, codes.SIDE) > 0.5
    on, off = np.log(codes.ON_PROBABILITY), np.log(1 - codes.ON_PROBABILITY)
    terms = []
    for code in itertools.product(range(codes.NUM_CATEGORIES), repeat=codes.NUM_FACTORS):
        expected = np.block([[templates[0, code[0]], templates[1, code[1]]],
                             [templates[2, code[2]], templates[3, code[3]]]])
        agree = int(np.sum(x == expected))
        terms.append(agree * on + (x.size - agree) * off)
    terms = np.array(terms) - codes.NUM_FACTORS * np.log(codes.NUM_CATEGORIES)
    return float(np.logaddexp.reduce(terms))


def test_exact_log_likelihood_matches_a_sum_over_all_codes():
    images, _ = codes.sample(2, np.random.default_rng(1))
    exact = codes.log_likelihood(images)
    for image, value in zip(images, exact):
        assert abs(value - _brute_force_log_likelihood(image)) < 1e-8


def test_coding_is_worth_far_more_than_independent_pixels():
    arrays = load_arrays("codes")
    exact = codes.log_likelihood(arrays.x_test).mean()
    p = np.clip(arrays.x_train.mean(axis=0), 1e-6, 1 - 1e-6)
    x = arrays.x_test
    independent = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3)).mean()
    assert -62 < exact < -58
    assert independent < exact - 100
