"""Assignments: a cadre holding a post from a date to a date (started and ended by personnel actions)."""
