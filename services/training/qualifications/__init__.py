"""Attained political theory levels: declared, and raised by completed political theory courses."""
