"""igr.models."""
