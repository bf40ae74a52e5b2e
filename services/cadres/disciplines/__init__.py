"""Disciplinary measures on cadres: they bar higher appointments for a while and end the cadre's plans."""
