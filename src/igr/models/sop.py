"""Structured output prediction network ``double_linear`` (spec section 6), as ``tf.Module``s.

Predict the lower half ``x_low`` of a binarised image from its upper half ``x_up``:

    x_up -> dense (linear) -> H binary units z1 -> dense (linear) -> H binary units z2
         -> dense -> D_low Bernoulli logits

(paper: 392 -> 240 -> 240 -> 392). A unit's relaxed value ``psi`` (its probability-simplex
coordinate of category "on", K = 2) enters the next layer as ``2 psi - 1`` in [-1, 1].
Each unit is a K = 2 relaxation of a family, parameterised by the preceding dense layer:

- GS: binary Concrete; one logit ``l`` per unit, the K = 2 GumbelSoftmax with logits
  ``(l, 0)``, i.e. ``psi = sigmoid((l + L) / tau)`` with L logistic noise;
- IGR-I: one Gaussian coordinate per unit, ``kappa ~ N(mu, sigma^2)``,
  ``sigma = softplus(.)``, through softmax++ with the temperature (delta = 1):
  ``psi = sigmoid(kappa / tau)`` (the reference code dropped tau here);
- IGR-Planar: as IGR-I with L planar layers on kappa whose parameters are global per
  unit (trained with the network);
- IGR-SB: one stick ``v = sigmoid(kappa)``; pieces ``(v, 1 - v)``;
  ``psi = softmax((v, 1 - v) / tau)``.

So the dense layer before a stochastic layer has H outputs for GS and 2H for the IGR
families (loc and pre-softplus scale of each unit).

The baselines ST-GS and ReinMax (issue 17; :attr:`igr.families.Family.forward`) have GS's
units, one logit ``l`` per unit (K = 2 logits ``(l, 0)``), but in training the next layer
reads an exactly binary value ``z`` in {0, 1} (so ``2 z - 1`` is -1 or +1) whose gradient is
the estimator's, the same estimators as the VAE latent's (:mod:`igr.models.latent`):

- ST-GS (``forward = "st_gs"``): ``psi ~ GS((l, 0), tau)``, value
  ``z = 1[psi >= 1/2]`` (:func:`igr.distributions.straight_through`), gradient that of
  ``psi = sigmoid((l + L) / tau)``: ``dz/dl = psi (1 - psi) / tau``;
- ReinMax (``forward = "reinmax"``): an exact draw ``D ~ Cat(softmax(l, 0))``, i.e.
  ``z ~ Bernoulli(sigmoid(l))`` (Gumbel-max,
  :func:`igr.distributions.estimators.categorical_sample`), value ``z``, gradient
  ``(2 J(pi1) - J(pi0) / 2)^T g`` (:func:`igr.distributions.estimators.reinmax_one_hot`)
  with ``pi0 = softmax(l, 0)``, ``pi1 = (D + softmax((l, 0) / tau)) / 2``; at K = 2,
  ``dz/dl = 2 a (1 - a) - s (1 - s) / 2`` with ``s = sigmoid(l)``,
  ``a = (z + sigmoid(l / tau)) / 2``.

Their loss has no KL, so only this forward value and its gradient differ from GS.

Loss with M samples ``z_m`` of the units (drawn in sequence: z2 given z1):

    loss(x) = -log (1/M) sum_m p(x_low | z_m)
            = log M - logsumexp_m sum_d [x_d log s(o_md) + (1 - x_d) log(1 - s(o_md))],

``o_m`` the output logits of sample m and ``s`` the sigmoid; the batch loss is its mean over
examples. Training uses M = 1 relaxed sample (the one-hot value above for the baselines);
the test loss uses M hard samples: each unit is the argmax of its relaxed sample (1 if
psi >= 1/2, else 0), which for every family here is a draw from the unit's exact Bernoulli
argmax law whatever the temperature; for the baselines the hard unit is their training
value without its gradient (ST-GS: that argmax; ReinMax: the exact Bernoulli draw z), so
their test loss is exact too, and their one-relaxed-sample loss is a one-hard-sample one.

Initialisation: Glorot-uniform weights from stateless seeds (igr.models.networks), zero
biases; the planar flow as :class:`igr.models.relaxed.PlanarFlowParameters` (``u``, ``w`` at
``0.01 N(0, 1)``, ``b`` at 0). The units are built by :mod:`igr.models.relaxed`.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.internal import samplers

from igr.families import families_of_stage, get_family
from igr.models import relaxed
from igr.models.networks import Dense, SeedSequence

SOP_FAMILIES: tuple[str, ...] = families_of_stage("sop")


class BinaryUnits(tf.Module):
    """A dense layer, then ``units`` stochastic binary units of ``family`` (module docs)."""

    def __init__(
        self,
        family: str,
        fan_in: int,
        units: int,
        temperature: float,
        seeds: SeedSequence,
        planar_layers: int = 2,
        name=None,
    ):
        super().__init__(name=name)
        if family not in SOP_FAMILIES:
            raise ValueError(f"unknown family {family!r}; expected one of {SOP_FAMILIES}")
        self.family, self.units, self.temperature = (
            family,
            int(units),
            float(temperature),
        )
        #: How the next layer's value is formed (:data:`igr.families.FORWARDS`).
        self.forward = get_family(family).forward
        self.params_per_unit = relaxed.num_parameters(family, 2, gs_pivot=True)
        self.dense = Dense(fan_in, self.params_per_unit * units, seeds, relu=False, name="dense")
        self.flow = None
        if get_family(family).planar:
            self.flow = relaxed.PlanarFlowParameters([units], planar_layers, 1, seeds())

    def distribution(self, h: tf.Tensor):
        """The K = 2 relaxed distribution of every unit [..., units], event [2].

        The dense layer's outputs are one logit per unit (GS), or the H locs followed by
        the H pre-scales (IGR), regrouped to one row per unit for the family builder.
        """
        outputs = self.dense(h)
        per_unit = tf.stack(tf.split(outputs, self.params_per_unit, axis=-1), axis=-1)
        return relaxed.posterior(
            self.family, per_unit, self.temperature, flow=self.flow, gs_pivot=True
        )

    def __call__(self, h: tf.Tensor, seed, hard: bool = False) -> tf.Tensor:
        """The value of category "on" [..., units] that the next layer reads.

        Relaxed families: ``psi`` in [0, 1] (training), or its argmax in {0, 1} (``hard``).
        ST-GS and ReinMax: the one-hot value in {0, 1} with the estimator's gradient
        (training), the same value without it (``hard``); module docstring.
        """
        q = self.distribution(h)
        if self.forward == "relaxed":
            psi = q.sample(seed=seed)
            if hard:
                return tf.cast(psi[..., 0] >= psi[..., 1], psi.dtype)
            return psi[..., 0]
        value = relaxed.one_hot_sample(self.family, q, self.temperature, seed)[..., 0]
        return tf.stop_gradient(value) if hard else value


def bernoulli_log_likelihood(x: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """``sum_d x_d log s(o_d) + (1 - x_d) log(1 - s(o_d))`` over the last axis."""
    x = tf.broadcast_to(x, tf.shape(logits))
    return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), -1)


def sop_loss_from_log_likelihoods(log_likelihoods: tf.Tensor) -> tf.Tensor:
    """``log M - logsumexp_m log p(x | z_m)`` per example, from log-likelihoods [M, B]."""
    num_samples = tf.cast(tf.shape(log_likelihoods)[0], log_likelihoods.dtype)
    return tf.math.log(num_samples) - tf.reduce_logsumexp(log_likelihoods, axis=0)


class DoubleLinearSOP(tf.Module):
    """The ``double_linear`` SOP network (module docstring).

    Args:
      family: one of :data:`SOP_FAMILIES`.
      input_size, output_size: pixels of the upper and lower halves (392 each for MNIST).
      hidden_units: H, binary units per stochastic layer (paper: 240).
      temperature: tau of every unit.
      seed: seed of the stateless initialisation.
      planar_layers: L for IGR-Planar.
    """

    def __init__(
        self,
        family: str,
        input_size: int,
        output_size: int,
        hidden_units: int,
        temperature: float,
        seed: int,
        planar_layers: int = 2,
        name=None,
    ):
        super().__init__(name=name)
        seeds = SeedSequence(seed, 0)
        self.family = family
        self.input_size, self.output_size = int(input_size), int(output_size)
        self.first = BinaryUnits(
            family,
            input_size,
            hidden_units,
            temperature,
            seeds,
            planar_layers,
            name="first",
        )
        self.second = BinaryUnits(
            family,
            hidden_units,
            hidden_units,
            temperature,
            seeds,
            planar_layers,
            name="second",
        )
        self.output_layer = Dense(hidden_units, output_size, seeds, relu=False, name="output")

    def output_logits(self, x_up: tf.Tensor, seed, hard: bool = False) -> tf.Tensor:
        """Bernoulli logits [..., D_low] of one draw of both unit layers per row of x_up."""
        first_seed, second_seed = samplers.split_seed(seed, n=2)
        z1 = self.first(x_up, first_seed, hard)
        z2 = self.second(2.0 * z1 - 1.0, second_seed, hard)
        return self.output_layer(2.0 * z2 - 1.0)

    def sample_log_likelihoods(
        self, x_up: tf.Tensor, x_low: tf.Tensor, seed, num_samples: int, hard: bool
    ) -> tf.Tensor:
        """``log p(x_low | z_m)`` [M, B] for M independent draws of the units."""
        batch = tf.shape(x_up)[0]
        tiled = tf.reshape(
            tf.broadcast_to(x_up, tf.concat([[num_samples], tf.shape(x_up)], 0)),
            [-1, self.input_size],
        )
        logits = self.output_logits(tiled, seed, hard)
        logits = tf.reshape(logits, [num_samples, batch, self.output_size])
        return bernoulli_log_likelihood(x_low, logits)

    def loss_per_example(
        self, x_up, x_low, seed, num_samples: int = 1, hard: bool = False
    ) -> tf.Tensor:
        """``-log (1/M) sum_m p(x_low | z_m)`` per example [B]."""
        log_likelihoods = self.sample_log_likelihoods(x_up, x_low, seed, num_samples, hard)
        return sop_loss_from_log_likelihoods(log_likelihoods)

    def loss(self, x_up, x_low, seed, num_samples: int = 1, hard: bool = False) -> tf.Tensor:
        """Mean over the batch of :meth:`loss_per_example`."""
        return tf.reduce_mean(self.loss_per_example(x_up, x_low, seed, num_samples, hard))

    def predict_lower(self, x_up, seed, num_samples: int) -> tf.Tensor:
        """Mean Bernoulli probability of each lower pixel over M hard draws [B, D_low]."""
        batch = tf.shape(x_up)[0]
        tiled = tf.reshape(
            tf.broadcast_to(x_up, tf.concat([[num_samples], tf.shape(x_up)], 0)),
            [-1, self.input_size],
        )
        logits = tf.reshape(self.output_logits(tiled, seed, True), [num_samples, batch, -1])
        return tf.reduce_mean(tf.math.sigmoid(logits), axis=0)


def split_halves(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Images [B, H, W, C] -> flattened upper rows ``0..H/2-1`` and lower rows [B, H/2 W C]."""
    height = images.shape[1]
    if height is None or height % 2:
        raise ValueError(f"images need an even, static height, got shape {images.shape}")
    half = height // 2
    batch = tf.shape(images)[0]
    upper = tf.reshape(images[:, :half], [batch, -1])
    lower = tf.reshape(images[:, half:], [batch, -1])
    return upper, lower


def half_size(image_shape) -> int:
    """Pixels in one half of an image of shape (H, W, C)."""
    height, width, channels = image_shape
    return (height // 2) * width * channels


def decayed_learning_rate(step, initial: float, decay: float, floor: float):
    """``max(floor, initial / (1 + decay * t))`` at optimizer step t (spec 6; t from 0)."""
    return tf.maximum(floor, initial / (1.0 + decay * tf.cast(step, tf.float32)))


def step_decay_schedule(initial: float = 1e-3, decay: float = 1e-3, floor: float = 1e-4):
    """A ``tf_keras`` learning-rate schedule of :func:`decayed_learning_rate`."""
    import tf_keras

    class StepDecay(tf_keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return decayed_learning_rate(step, initial, decay, floor)

        def get_config(self):
            return {"initial": initial, "decay": decay, "floor": floor}

    return StepDecay()
