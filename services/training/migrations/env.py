"""Alembic environment of the training service (the shared runner does the work)."""

from shared.migrations import run_env

run_env("training")
