"""The training section of the sector report."""
