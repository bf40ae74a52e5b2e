"""needs of a subtree: posts carry their organization's path; holders and planned cadres from covering indexes

* ``post_projection.org_path`` (null while the organization is not in the projection) with
  ``ix_post_projection_org_path`` (org_path) — on PostgreSQL with ``required_rank`` and ``category`` in the
  leaf — so the posts of a subtree are one (index-only) range scan instead of the subtree's organizations
  each probing the posts; ``ix_post_projection_unplaced`` (org_id) WHERE org_path IS NULL finds the posts
  whose organization's path is read from the organization projection instead. Filled here from
  ``org_projection`` (~100,000 posts at national scale: a few seconds).
* ``ix_assignment_projection_post`` (post_id, starts_on) becomes ``ix_assignment_projection_post_cover`` and
  ``ix_plan_projection_post`` (post_id, added_on) ``ix_plan_projection_post_cover``: the same keys and, on
  PostgreSQL, the end and the cadre in the leaf, so the holders and planned cadres of a subtree's posts are
  read index-only. On SQLite (no INCLUDE) the new indexes have the old ones' columns. Each new index is built
  before the old one is dropped.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATH = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")
UNPLACED = sa.text("org_path IS NULL")
POST_COVERED = ["id", "required_rank", "category"]
FILL = """
UPDATE post_projection SET org_path = (
    SELECT org_projection.path FROM org_projection WHERE org_projection.id = post_projection.org_id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("post_projection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_path", PATH, nullable=True))
    op.execute(FILL)
    with op.batch_alter_table("post_projection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_post_projection_org_path",
            ["org_path"],
            unique=False,
            postgresql_include=POST_COVERED,
        )
        batch_op.create_index(
            "ix_post_projection_unplaced",
            ["org_id"],
            unique=False,
            sqlite_where=UNPLACED,
            postgresql_where=UNPLACED,
        )
    op.create_index(
        "ix_assignment_projection_post_cover",
        "assignment_projection",
        ["post_id", "starts_on"],
        unique=False,
        postgresql_include=["ends_on", "cadre_id"],
    )
    op.drop_index("ix_assignment_projection_post", table_name="assignment_projection")
    op.create_index(
        "ix_plan_projection_post_cover",
        "plan_projection",
        ["post_id", "added_on"],
        unique=False,
        postgresql_include=["removed_on", "cadre_id"],
    )
    op.drop_index("ix_plan_projection_post", table_name="plan_projection")


def downgrade() -> None:
    op.create_index("ix_plan_projection_post", "plan_projection", ["post_id", "added_on"], unique=False)
    op.drop_index("ix_plan_projection_post_cover", table_name="plan_projection")
    op.create_index(
        "ix_assignment_projection_post", "assignment_projection", ["post_id", "starts_on"], unique=False
    )
    op.drop_index("ix_assignment_projection_post_cover", table_name="assignment_projection")
    with op.batch_alter_table("post_projection", schema=None) as batch_op:
        batch_op.drop_index("ix_post_projection_unplaced", sqlite_where=UNPLACED, postgresql_where=UNPLACED)
        batch_op.drop_index("ix_post_projection_org_path", postgresql_include=POST_COVERED)
        batch_op.drop_column("org_path")
