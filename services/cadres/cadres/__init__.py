"""Cadres: the officials whose personnel work the Party committees manage."""
