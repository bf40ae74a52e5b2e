"""stats indexes: a covering index of personnel actions by decision date, for the sector report

On PostgreSQL ``INCLUDE (kind, cadre_id, post_id, to_org_id, from_org_id)`` lets the report read a period of
decisions with an index-only scan; SQLite has no INCLUDE and gets a plain index on ``decided_on``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:21:50.864292
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_personnel_actions_decided_cover",
        "personnel_actions",
        ["decided_on"],
        unique=False,
        postgresql_include=["kind", "cadre_id", "post_id", "to_org_id", "from_org_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_personnel_actions_decided_cover", table_name="personnel_actions")
