"""members: counts per organization and day (the sector report sums them instead of scanning states)

Creates ``member_counts`` (per organization and day of change: running totals by active status and that
day's events) and ``member_day_counts`` (the same per day for the whole system, as net changes), and
backfills both from ``members`` / ``member_states`` — the statements below are a frozen copy of
``services.orgs.members.counts.recount_sql``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("probationary", "official", "exempt")
LEFT_REASONS = ("removed", "expelled", "deceased", "withdrawn")
EVENTS = ("admitted", "recognized", *(f"left_{r}" for r in LEFT_REASONS))
COLUMNS = (*STATUSES, *EVENTS)


def _recount_sql() -> tuple[str, str]:
    status_cols = ", ".join(f"CASE WHEN status = '{s}' THEN {{sign}} ELSE 0 END AS {s}" for s in STATUSES)
    zero_status = ", ".join(f"0 AS {s}" for s in STATUSES)

    def events(**ones: str) -> str:
        return ", ".join(f"{ones.get(e, '0')} AS {e}" for e in EVENTS)

    left = ", ".join(f"CASE WHEN left_reason = '{r}' THEN 1 ELSE 0 END AS left_{r}" for r in LEFT_REASONS)
    active = ", ".join(f"'{s}'" for s in STATUSES)
    ev = f"""
        SELECT org_node, valid_from AS day, {status_cols.format(sign=1)}, {events()}
          FROM member_states WHERE status IN ({active})
        UNION ALL
        SELECT org_node, valid_to AS day, {status_cols.format(sign=-1)}, {events()}
          FROM member_states WHERE status IN ({active}) AND valid_to IS NOT NULL
        UNION ALL
        SELECT admitted_org_node AS org_node, admitted_on AS day, {zero_status}, {events(admitted="1")}
          FROM members WHERE admitted_org_node IS NOT NULL
        UNION ALL
        SELECT s.org_node, s.valid_from AS day, {zero_status}, {events(recognized="1")}
          FROM member_states s
          JOIN (SELECT min(id) AS id FROM member_states WHERE status = 'official' GROUP BY member_id) r
            ON r.id = s.id
        UNION ALL
        SELECT org_node, valid_from AS day, {zero_status}, 0 AS admitted, 0 AS recognized, {left}
          FROM member_states WHERE status = 'left'
    """
    sums = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
    per_node_day = f"SELECT org_node, day, {sums} FROM ({ev}) ev GROUP BY org_node, day"
    running = ", ".join(
        f"sum({s}) OVER (PARTITION BY org_node ORDER BY day ROWS UNBOUNDED PRECEDING) AS {s}"
        for s in STATUSES
    )
    per_org = f"SELECT org_node, day, {running}, {', '.join(EVENTS)} FROM ({per_node_day}) d"
    per_day = f"SELECT day, {sums} FROM ({ev}) ev GROUP BY day"
    return per_org, per_day


def _count_columns() -> list[sa.Column]:
    return [sa.Column(c, sa.Integer(), nullable=False) for c in COLUMNS]


def upgrade() -> None:
    op.create_table(
        "member_counts",
        sa.Column("org_node", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_count_columns(),
        sa.PrimaryKeyConstraint("org_node", "day", name=op.f("pk_member_counts")),
    )
    op.create_table(
        "member_day_counts",
        sa.Column("day", sa.Date(), nullable=False),
        *_count_columns(),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_member_day_counts")),
    )
    per_org, per_day = _recount_sql()
    cols = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO member_counts (org_node, day, {cols}) {per_org}")
    op.execute(f"INSERT INTO member_day_counts (day, {cols}) {per_day}")


def downgrade() -> None:
    op.drop_table("member_day_counts")
    op.drop_table("member_counts")
