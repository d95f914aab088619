"""igr.experiments."""
