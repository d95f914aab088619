"""igr.reporting."""
