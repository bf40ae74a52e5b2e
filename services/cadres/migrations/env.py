"""Alembic environment of the cadres service (the shared runner does the work)."""

from shared.migrations import run_env

run_env("cadres")
