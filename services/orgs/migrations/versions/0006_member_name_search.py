"""members: search by word start (the keys of ``members.search``) and the sort order's index

* ``members.name_rest`` — the normalized name from its second word on (None for a one-word name), filled
  from ``name_search``;
* ``member_name_starts`` — the normalized name from each of its words 3 … n−1 on, one row each (names of
  four words or more), filled from ``name_search``;
* indexes: ``ix_members_sort_key`` (``sort_key, id``; on PostgreSQL it also carries ``name_search`` and
  ``member_no`` so a filtered walk of the order reads no table row), ``ix_members_name_search``,
  ``ix_members_name_rest``;
* the sector report's ``ix_organizations_established_on`` and ``ix_organization_changes_change_effective``
  (the organizations established, dissolved or merged in a period: each report scanned both tables);
* PostgreSQL: ``members.member_no`` in the ``C`` collation (byte order), so that a prefix of a member number
  is a range of its unique index (its values are digits and upper-case letters; the unique index is rebuilt).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def _name_starts(name_search: str) -> list[str]:
    """Frozen copy of ``services.orgs.members.search.name_starts``."""
    words = name_search.split(" ")
    return [" ".join(words[k:]) for k in range(2, len(words) - 1)]


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.add_column("members", sa.Column("name_rest", SEARCH, nullable=True))
    position = "strpos(name_search, ' ')" if postgresql else "instr(name_search, ' ')"
    op.execute(f"UPDATE members SET name_rest = substr(name_search, {position} + 1) WHERE {position} > 0")
    op.create_table(
        "member_name_starts",
        sa.Column("name_start", SEARCH, nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_name_starts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("name_start", "member_id", name=op.f("pk_member_name_starts")),
    )
    if postgresql:
        op.execute(
            """
            INSERT INTO member_name_starts (name_start, member_id)
            SELECT array_to_string(w[k:], ' '), id
              FROM (SELECT id, string_to_array(name_search, ' ') AS w FROM members
                     WHERE name_search LIKE '% % % %') AS m,
                   generate_series(3, array_length(w, 1) - 1) AS k
            """
        )
        op.execute('ALTER TABLE members ALTER COLUMN member_no TYPE VARCHAR(16) COLLATE "C"')
    else:
        members = sa.table("members", sa.column("id", sa.Uuid()), sa.column("name_search", sa.String()))
        starts = sa.table("member_name_starts", sa.column("name_start"), sa.column("member_id", sa.Uuid()))
        rows = bind.execute(
            sa.select(members.c.id, members.c.name_search).where(members.c.name_search.like("% % % %"))
        ).all()
        values = [{"name_start": s, "member_id": i} for i, name in rows for s in _name_starts(name)]
        if values:
            bind.execute(sa.insert(starts), values)
    op.create_index(
        "ix_members_sort_key",
        "members",
        ["sort_key", "id"],
        unique=False,
        postgresql_include=["name_search", "member_no"],
    )
    op.create_index("ix_members_name_search", "members", ["name_search"], unique=False)
    op.create_index("ix_members_name_rest", "members", ["name_rest"], unique=False)
    # The sector report's organizations of a period (declared in services.orgs.members.models).
    op.create_index("ix_organizations_established_on", "organizations", ["established_on"], unique=False)
    op.create_index(
        "ix_organization_changes_change_effective",
        "organization_changes",
        ["change", "effective_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_organization_changes_change_effective", table_name="organization_changes")
    op.drop_index("ix_organizations_established_on", table_name="organizations")
    op.drop_index("ix_members_name_rest", table_name="members")
    op.drop_index("ix_members_name_search", table_name="members")
    op.drop_index(
        "ix_members_sort_key", table_name="members", postgresql_include=["name_search", "member_no"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE members ALTER COLUMN member_no TYPE VARCHAR(16)")
    op.drop_table("member_name_starts")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("name_rest")
