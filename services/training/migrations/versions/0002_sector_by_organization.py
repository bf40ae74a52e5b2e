"""enrollments: a subtree's sector report reads each organization's enrollments from one covering index

``ix_enrollments_org_sent_on`` (sent_by_org_id, sent_on) becomes ``ix_enrollments_org_sent_cover``: the same
key, and on PostgreSQL every column the report counts (cadre, programme kind, theory level, status, completion
date) in the leaf, so the report of an upper committee is index-only (~9,000 probes at national scale). On
SQLite (no INCLUDE) the new index has the old one's columns. The new index is built before the old one is
dropped (~1.5 M rows: a few seconds, writes to ``enrollments`` wait meanwhile).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 08:59:51.916159
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["cadre_id", "programme_kind", "theory_level", "status", "completed_on"]


def upgrade() -> None:
    op.create_index(
        "ix_enrollments_org_sent_cover",
        "enrollments",
        ["sent_by_org_id", "sent_on"],
        unique=False,
        postgresql_include=COVERED,
    )
    op.drop_index("ix_enrollments_org_sent_on", table_name="enrollments")


def downgrade() -> None:
    op.create_index("ix_enrollments_org_sent_on", "enrollments", ["sent_by_org_id", "sent_on"], unique=False)
    op.drop_index("ix_enrollments_org_sent_cover", table_name="enrollments")
