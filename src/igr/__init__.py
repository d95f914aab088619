"""igr: Invertible Gaussian Reparameterization and the Gumbel-Softmax, as TFP distributions."""

__version__ = "0.1.0"
