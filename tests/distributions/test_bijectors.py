"""Bijector values, inverses and log-determinants against autodiff Jacobians and TFP."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from igr.distributions import (
    PlanarFlow,
    SoftmaxPlusPlus,
    StickBreaking,
    TemperedSoftmax,
)

tfb = tfp.bijectors
F64 = tf.float64


def simplex_log_det_by_autodiff(forward, x):
    """log|det d y_{1:K-1} / d x| from the autodiff Jacobian of a map onto the K-simplex."""
    x = tf.identity(x)  # a new tensor: TFP's bijector cache must not answer from a past call
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = forward(x)[..., :-1]
    jacobian = tape.batch_jacobian(y, x)
    return tf.linalg.slogdet(jacobian)[1]


def random_points(num, dim, scale, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(0.0, scale, (num, dim)), F64)


@pytest.mark.parametrize("temperature", [1.0, 0.1, 0.01])
@pytest.mark.parametrize("delta", [1.0, 2.5])
def test_softmax_plus_plus_round_trip_and_log_det(temperature, delta):
    bijector = SoftmaxPlusPlus(tf.constant(temperature, F64), tf.constant(delta, F64))
    # Spread the inputs so that lambda / tau is O(1) to O(20): psi stays representable.
    x = random_points(64, 4, 3.0 * temperature)
    y = bijector.forward(x)
    np.testing.assert_allclose(tf.reduce_sum(y, -1), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        bijector.inverse(tf.identity(y)), x, atol=1e-9 * max(1, 1 / temperature)
    )
    expected = simplex_log_det_by_autodiff(bijector.forward, x)
    np.testing.assert_allclose(
        bijector.forward_log_det_jacobian(x, 1), expected, rtol=1e-9, atol=1e-8
    )
    # Closed form of the spec: -(K-1) log tau + sum_{k=1..K} log psi_k.
    formula = -4 * np.log(temperature) + np.sum(np.log(y.numpy()), -1)
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(x, 1), formula, rtol=1e-9)


def test_softmax_plus_plus_is_softmax_centered_after_scale_and_shift(tfp_pad_numpy_compat):
    temperature, delta = 0.3, 2.0
    ours = SoftmaxPlusPlus(tf.constant(temperature, F64), tf.constant(delta, F64))
    theirs = tfb.Chain(
        [
            tfb.SoftmaxCentered(),
            tfb.Shift(tf.constant(-np.log(delta), F64)),
            tfb.Scale(tf.constant(1.0 / temperature, F64)),
        ]
    )
    x = random_points(32, 5, 1.0)
    np.testing.assert_allclose(ours.forward(x), theirs.forward(x), rtol=1e-12)
    # TFP measures the simplex by its surface measure: + 0.5 log K, K = 6 here.
    difference = theirs.forward_log_det_jacobian(x, 1) - ours.forward_log_det_jacobian(x, 1)
    np.testing.assert_allclose(difference, 0.5 * np.log(6.0), rtol=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 0.01])
def test_softmax_plus_plus_large_inputs_have_finite_values_and_gradients(temperature):
    bijector = SoftmaxPlusPlus(tf.constant(temperature, F64))
    x = tf.constant([[1e3, -1e3, 5e2], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1e-3, 0.0]], F64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = bijector.forward(x)
        log_det = bijector.forward_log_det_jacobian(x, 1)
        total = tf.reduce_sum(log_det) + tf.reduce_sum(y * tf.constant([1.0, 2.0, 3.0, 4.0], F64))
    gradient = tape.gradient(total, x)
    for tensor in (y, log_det, gradient):
        assert np.all(np.isfinite(tensor.numpy()))
    np.testing.assert_allclose(y[1], [0, 0, 0, 1], atol=1e-12)  # the pivot wins


@pytest.mark.parametrize("temperature", [1.0, 0.3, 0.05])
def test_stick_breaking_then_tempered_softmax_round_trip_and_log_det(temperature):
    stick, soft = StickBreaking(), TemperedSoftmax(tf.constant(temperature, F64))
    chain = tfb.Chain([soft, stick])
    kappa = random_points(64, 5, 2.0, seed=1)
    eta = stick.forward(kappa)
    np.testing.assert_allclose(tf.reduce_sum(eta, -1), 1.0, atol=1e-12)
    assert np.all(eta.numpy() > 0)
    np.testing.assert_allclose(stick.inverse(tf.identity(eta)), kappa, atol=1e-8)
    psi = chain.forward(kappa)
    np.testing.assert_allclose(chain.inverse(tf.identity(psi)), kappa, atol=1e-6 / temperature)
    np.testing.assert_allclose(
        stick.forward_log_det_jacobian(kappa, 1),
        simplex_log_det_by_autodiff(stick.forward, kappa),
        rtol=1e-9,
    )
    # Tempered softmax as a map of eta_{1:K-1} (eta_K = 1 - sum) into psi_{1:K-1}.
    eta_free = eta[..., :-1]
    lift = lambda e: soft.forward(tf.concat([e, 1.0 - tf.reduce_sum(e, -1, keepdims=True)], -1))
    np.testing.assert_allclose(
        soft.forward_log_det_jacobian(eta, 1),
        simplex_log_det_by_autodiff(lift, eta_free),
        rtol=1e-8,
    )
    # Spec 1.5: log K - (K-1) log tau + sum_k log psi_k.
    formula = np.log(6) - 5 * np.log(temperature) + np.sum(np.log(psi.numpy()), -1)
    np.testing.assert_allclose(soft.forward_log_det_jacobian(eta, 1), formula, rtol=1e-9)


def test_stick_breaking_large_inputs_are_finite():
    chain = tfb.Chain([TemperedSoftmax(tf.constant(0.01, F64)), StickBreaking()])
    kappa = tf.constant([[50.0, -50.0, 0.0], [-80.0, -80.0, -80.0], [300.0, 300.0, 300.0]], F64)
    with tf.GradientTape() as tape:
        tape.watch(kappa)
        psi = chain.forward(kappa)
        log_det = chain.forward_log_det_jacobian(kappa, 1)
        total = tf.reduce_sum(log_det) + tf.reduce_sum(psi[..., 0])
    gradient = tape.gradient(total, kappa)
    for tensor in (psi, log_det, gradient):
        assert np.all(np.isfinite(tensor.numpy()))
    assert np.argmax(psi[1]) == 3  # every stick near 0: the remainder wins


def test_planar_flow_round_trip_and_log_det():
    rng = np.random.default_rng(2)
    u, w = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    b = rng.normal(size=(8,))
    flow = PlanarFlow(tf.constant(u, F64), tf.constant(w, F64), tf.constant(b, F64))
    z = tf.constant(rng.normal(size=(8, 4)) * 2, F64)
    y = flow.forward(z)
    np.testing.assert_allclose(flow.inverse(tf.identity(y)), z, atol=1e-9)
    z = tf.identity(z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = flow.forward(z)
    expected = tf.linalg.slogdet(tape.batch_jacobian(out, z))[1]
    np.testing.assert_allclose(flow.forward_log_det_jacobian(z, 1), expected, rtol=1e-9, atol=1e-12)


def test_planar_flow_is_invertible_when_w_dot_u_violates_the_bound():
    # w.u = -6 < -1: the uncorrected map folds over; the corrected one must not.
    w = np.array([[1.0, 2.0, 0.0]])
    u = -6.0 * w / np.sum(w**2)
    assert np.sum(w * u) < -1
    flow = PlanarFlow(tf.constant(u, F64), tf.constant(w, F64), tf.constant([0.5], F64))
    w_dot_u_hat = tf.reduce_sum(flow.u_hat * w, -1).numpy()
    assert np.all(w_dot_u_hat > -1)
    # Along the direction of w the projection w.f(z) must be strictly increasing.
    t = tf.constant(np.linspace(-6, 6, 2001)[:, None] * w / np.sum(w**2), F64)
    projection = tf.reduce_sum(flow.forward(t) * w, -1).numpy()
    assert np.all(np.diff(projection) > 0)
    # The uncorrected map z + u tanh(w.z + b) is NOT monotone there (the test has teeth).
    raw = np.sum((t.numpy() + u * np.tanh(t.numpy() @ w.T + 0.5)) * w, -1)
    assert np.any(np.diff(raw) < 0)
    np.testing.assert_allclose(flow.inverse(flow.forward(t)), t, atol=1e-9)
    assert np.all(np.isfinite(flow.forward_log_det_jacobian(t, 1).numpy()))


def test_planar_flow_log_det_is_finite_for_strongly_negative_w_dot_u():
    """float32, w.u from -5 to -60: the dot product of the corrected u used to round below -1
    (NaN log-det in about half of such pairs); the log-det now matches float64 autodiff."""
    rng = np.random.default_rng(12)
    w = rng.normal(size=(1000, 9)).astype(np.float32)
    scale = rng.uniform(5.0, 60.0, size=(1000, 1)).astype(np.float32)
    u = (-scale * w / np.sum(w**2, -1, keepdims=True)).astype(np.float32)
    u += 0.01 * rng.normal(size=u.shape).astype(np.float32)
    flow = PlanarFlow(tf.constant(u), tf.constant(w), tf.zeros([1000]))
    z = tf.constant(rng.normal(size=(1000, 9)).astype(np.float32))
    log_det = flow.forward_log_det_jacobian(z, 1).numpy()
    assert np.all(np.isfinite(log_det))
    exact = PlanarFlow(tf.constant(u, F64), tf.constant(w, F64), tf.zeros([1000], F64))
    z64 = tf.cast(z, F64)
    with tf.GradientTape() as tape:
        tape.watch(z64)
        out = exact.forward(z64)
    reference = tf.linalg.slogdet(tape.batch_jacobian(out, z64))[1].numpy()
    np.testing.assert_allclose(log_det, reference, rtol=1e-3, atol=1e-3)


def test_planar_flow_with_w_zero_is_a_translation():
    u = tf.constant([[0.5, -1.0, 2.0]], F64)
    flow = PlanarFlow(u, tf.zeros([1, 3], F64), tf.constant([0.3], F64))
    z = tf.constant([[1.0, 2.0, 3.0]], F64)
    y = flow.forward(z)
    np.testing.assert_allclose(y, z + u * np.tanh(0.3), rtol=1e-12)
    np.testing.assert_allclose(flow.forward_log_det_jacobian(z, 1), [0.0])
    np.testing.assert_allclose(flow.inverse(tf.identity(y)), z, atol=1e-9)


def test_invalid_bijector_parameters_raise_value_errors():
    with pytest.raises(ValueError, match="temperature.*> 0"):
        SoftmaxPlusPlus(0.0)
    with pytest.raises(ValueError, match="delta.*> 0"):
        SoftmaxPlusPlus(1.0, delta=-1.0)
    with pytest.raises(ValueError, match="temperature.*> 0"):
        TemperedSoftmax(-0.5)
    with pytest.raises(ValueError, match="do not broadcast"):
        PlanarFlow(tf.zeros([3, 4]), tf.zeros([2, 4]), tf.zeros([3]))


@pytest.mark.parametrize("tf32_fallback", [False, True])
@pytest.mark.parametrize("include_total", [False, True])
def test_exclusive_prefix_sums_match_cumsum_with_gradients(
    include_total, tf32_fallback, monkeypatch
):
    from igr.distributions import stick_breaking
    from igr.distributions.stick_breaking import exclusive_prefix_sums

    # The cumsum path is taken where a float32 matmul could run in TensorFloat-32 (GPUs).
    monkeypatch.setattr(stick_breaking, "_tf32_matmul_possible", lambda dtype: tf32_fallback)

    x = tf.constant(np.random.default_rng(4).normal(size=(2, 3, 9)))
    expected = np.cumsum(np.concatenate([np.zeros((2, 3, 1)), x.numpy()], -1), -1)
    expected = expected if include_total else expected[..., :-1]
    weights = tf.constant(np.arange(1.0, expected.shape[-1] + 1))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        sums = exclusive_prefix_sums(x, include_total=include_total)
        objective = tf.reduce_sum(sums * weights)
    np.testing.assert_allclose(sums, expected, rtol=1e-12, atol=1e-12)
    # d/dx_j of sum_k w_k sum_{i<k} x_i is the sum of the weights after j.
    later = np.append(np.cumsum(weights.numpy()[::-1])[::-1], 0.0)
    np.testing.assert_allclose(tape.gradient(objective, x)[0, 0], later[1:10], rtol=1e-12)
