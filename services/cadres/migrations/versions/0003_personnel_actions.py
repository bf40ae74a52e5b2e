"""personnel actions; assignments get a version (their events' sequence)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:35:59.029275
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personnel_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("from_org_id", sa.Uuid(), nullable=True),
        sa.Column("to_org_id", sa.Uuid(), nullable=True),
        sa.Column("decision_no", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("findings_acknowledged", sa.Boolean(), nullable=False),
        sa.Column("acknowledgement_reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personnel_actions")),
    )
    op.create_index(
        "ix_personnel_actions_cadre_decided_on", "personnel_actions", ["cadre_id", "decided_on"], unique=False
    )
    op.create_index(
        "ix_personnel_actions_decided_on_id", "personnel_actions", ["decided_on", "id"], unique=False
    )
    # Assignments so far were only ever started: version 1. The default goes again (the model sets it).
    op.add_column("assignments", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("version")
    op.drop_index("ix_personnel_actions_decided_on_id", table_name="personnel_actions")
    op.drop_index("ix_personnel_actions_cadre_decided_on", table_name="personnel_actions")
    op.drop_table("personnel_actions")
