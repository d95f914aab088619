"""Relaxed categorical distributions as TensorFlow Probability distributions.

Families (event shape [K], a point of the simplex; discrete variables in the batch shape):

- `GumbelSoftmax` (Concrete, optional straight-through),
- `IGRI`: Gaussian through softmax++,
- `IGRPlanar`: Gaussian through planar flows, then softmax++,
- `IGRSB`: Gaussian sticks, stick-breaking with a remainder, tempered softmax,
- `TruncatedIGRSB`: IGR-SB with data-driven truncation under a cap K_max.

Every family has a reparameterised `sample` (stateless seeds), `log_prob` on the simplex with
respect to Lebesgue measure on the first K-1 coordinates, `argmax_probs` (exact for GS and
IGR-I, Monte Carlo otherwise) and a training KL (`training_kl`; `sample_and_kl` draws
one sample and the KL that goes with it, as the VAE trains).
"""

from igr.distributions.argmax import DEFAULT_ARGMAX_SAMPLES, igr_i_argmax_probs
from igr.distributions.gumbel_softmax import (
    GumbelSoftmax,
    exp_concrete_log_prob,
    straight_through,
)
from igr.distributions.igr_gaussian import IGRI, IGRPlanar
from igr.distributions.igr_stick_breaking import IGRSB, TruncatedIGRSB, TruncatedSample
from igr.distributions.kl import (
    categorical_kl,
    has_closed_form_kl,
    monte_carlo_kl,
    sample_and_kl,
    training_kl,
)
from igr.distributions.planar import PlanarFlow
from igr.distributions.softmax_plus_plus import SoftmaxPlusPlus
from igr.distributions.stick_breaking import StickBreaking, TemperedSoftmax
from igr.distributions.uniform import igr_i_uniform_loc, uniform_prior

__all__ = [
    "DEFAULT_ARGMAX_SAMPLES",
    "GumbelSoftmax",
    "IGRI",
    "IGRPlanar",
    "IGRSB",
    "PlanarFlow",
    "SoftmaxPlusPlus",
    "StickBreaking",
    "TemperedSoftmax",
    "TruncatedIGRSB",
    "TruncatedSample",
    "categorical_kl",
    "exp_concrete_log_prob",
    "has_closed_form_kl",
    "igr_i_argmax_probs",
    "igr_i_uniform_loc",
    "monte_carlo_kl",
    "sample_and_kl",
    "straight_through",
    "training_kl",
    "uniform_prior",
]
