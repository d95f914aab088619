"""igr.training."""
