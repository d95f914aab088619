"""igr.data."""
