"""A throwaway service package (``services.fakesvc``) for testing the migration runner and ``tochuc migrate``
without depending on any real service's models."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import services

SERVICE = "fakesvc"

DB_PY = """
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base

Base = make_base()
Notes = make_base()  # a second MetaData: target_metadata() returns a list, like the services' own + kit


class Widget(Base):
    __tablename__ = "widgets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str | None] = mapped_column(String(20), index=True)


class Note(Notes):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


def target_metadata():
    return [Base.metadata, Notes.metadata]
"""

REVISION_1 = '''
"""widgets

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widgets")),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )


def downgrade() -> None:
    op.drop_table("notes")
    op.drop_table("widgets")
'''

REVISION_2 = '''
"""widget colour

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.add_column(sa.Column("colour", sa.String(length=20), nullable=True))
        batch.create_index(batch.f("ix_widgets_colour"), ["colour"])


def downgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.drop_index(batch.f("ix_widgets_colour"))
        batch.drop_column("colour")
'''

BROKEN_REVISION_3 = '''
"""half done

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("gadgets", sa.Column("id", sa.Integer(), primary_key=True))
    raise RuntimeError("boom in the middle of a migration")


def downgrade() -> None:
    op.drop_table("gadgets")
'''


def write_fake_service(root: Path, revisions: list[str]) -> Path:
    package = root / SERVICE
    versions = package / "migrations" / "versions"
    versions.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text(textwrap.dedent(DB_PY))
    (package / "migrations" / "env.py").write_text(
        f"from shared.migrations import run_env\n\nrun_env({SERVICE!r})\n"
    )
    mako = Path(services.__file__).parent / "orgs" / "migrations" / "script.py.mako"
    (package / "migrations" / "script.py.mako").write_text(mako.read_text())
    for number, body in enumerate(revisions, start=1):
        (versions / f"{number:04d}_rev.py").write_text(textwrap.dedent(body).lstrip())
    return package


def forget_fake_modules() -> None:
    for name in [
        m for m in sys.modules if m == f"services.{SERVICE}" or m.startswith(f"services.{SERVICE}.")
    ]:
        del sys.modules[name]
