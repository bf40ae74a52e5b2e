"""Programmes: the training catalogue."""
