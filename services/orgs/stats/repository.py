"""The queries of the sector report. Counts are grouped by organization in SQL; the classification by the
kind of the grassroots organization is then a walk over the tree as it stood on the last day of the period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members import counts
from services.orgs.members.models import Member, MemberCount, MemberDayCount, MemberState
from services.orgs.organizations.models import Organization, OrganizationChange, OrganizationVersion
from services.orgs.organizations.repository import in_subtree, valid_on

V = OrganizationVersion.__table__
O = Organization.__table__  # noqa: E741
C = OrganizationChange.__table__
M = Member.__table__
S = MemberState.__table__
K = MemberCount.__table__
G = MemberDayCount.__table__

GRASSROOTS = ("grassroots_committee", "grassroots_cell")
ACTIVE_STATUSES = ("probationary", "official", "exempt")


async def tree_on(session: AsyncSession, day: dt.date, within_path: str | None) -> list[dict[str, Any]]:
    """Every organization existing on the day (any status) in the subtree, and the subtree root's ancestors
    (a cell's grassroots organization may sit above the subtree asked for), ordered by depth."""
    stmt = (
        select(
            V.c.node,
            V.c.parent_node,
            V.c.path,
            V.c.depth,
            V.c.level,
            V.c.kind,
            V.c.status,
            O.c.established_on,
        )
        .join(O, O.c.node == V.c.node)
        .where(valid_on(day))
    )
    if within_path is not None:
        from shared.tree import path_nodes

        stmt = stmt.where(in_subtree(V.c.path, within_path) | V.c.node.in_(path_nodes(within_path)))
    stmt = stmt.order_by(V.c.depth)
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def changes_by_node(session: AsyncSession, change: str, start: dt.date, end: dt.date) -> list[int]:
    stmt = select(C.c.node).where(C.c.change == change, C.c.effective_on.between(start, end))
    return [int(n) for (n,) in (await session.execute(stmt)).all()]


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _scope(day: dt.date, within_path: str | None) -> Any:
    """Organization versions valid on the day, in the subtree (everything without one)."""
    cond = valid_on(day)
    return cond if within_path is None else and_(cond, in_subtree(V.c.path, within_path))


async def organization_figures(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> list[tuple[str, str, str, bool, int]]:
    """(level, kind, status on ``end``, established in the period, count) of the organizations existing on
    ``end`` in the subtree that the report counts: the grassroots ones, and those established in the
    period (two grouped statements instead of the tree in memory)."""
    grassroots = (
        select(V.c.level, V.c.kind, V.c.status, func.count())
        .where(_scope(end, within_path), V.c.level.in_(GRASSROOTS))
        .group_by(V.c.level, V.c.kind, V.c.status)
    )
    established = (
        select(V.c.level, V.c.kind, func.count())
        .select_from(O)
        .join(V, V.c.node == O.c.node)
        .where(O.c.established_on.between(start, end), _scope(end, within_path))
        .group_by(V.c.level, V.c.kind)
    )
    rows: list[tuple[str, str, str, bool, int]] = []
    for lv, k, st, n in (await session.execute(grassroots)).all():
        rows.append((str(lv), str(k), str(st), False, int(n)))
    for lv, k, n in (await session.execute(established)).all():
        # established in the period: counted for the established figures only (the grassroots active at
        # the end were counted above)
        rows.append((str(lv), str(k), "established", True, int(n)))
    return rows


async def ended_by_level(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> list[tuple[str, str, int]]:
    """(change, level on ``end``, count) of the dissolutions and merges effective in the period."""
    stmt = (
        select(C.c.change, V.c.level, func.count())
        .join(V, V.c.node == C.c.node)
        .where(
            C.c.change.in_(("dissolved", "merged")),
            C.c.effective_on.between(start, end),
            _scope(end, within_path),
        )
        .group_by(C.c.change, V.c.level)
    )
    return [(str(c), str(lv), int(n)) for c, lv, n in (await session.execute(stmt)).all()]


async def non_cells_on(session: AsyncSession, day: dt.date, within_path: str | None) -> list[dict[str, Any]]:
    """``tree_on`` without the cells (which have no children): enough to find the grassroots kind of a
    cell's parent."""
    stmt = select(V.c.node, V.c.parent_node, V.c.level, V.c.kind).where(valid_on(day), V.c.level != "cell")
    if within_path is not None:
        from shared.tree import path_nodes

        stmt = stmt.where(in_subtree(V.c.path, within_path) | V.c.node.in_(path_nodes(within_path)))
    stmt = stmt.order_by(V.c.depth)
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


# ---------------------------------------------------------------- members: from the maintained counts

_EVENT_SUMS = tuple(func.coalesce(func.sum(K.c[e]), 0).label(e) for e in counts.EVENTS)
_STATUS_SUMS = tuple(func.coalesce(func.sum(K.c[s]), 0).label(s) for s in counts.STATUSES)


async def events_by_admitting_parent(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> list[dict[str, Any]]:
    """The period's member events (``counts.EVENTS``) of the organizations in the subtree on ``end``,
    grouped by (parent node, level, kind) of the organization on ``end`` — enough to classify admissions
    by grassroots kind.

    Whole system: only admissions (the other events are summed from ``member_day_counts``), from the
    index-only range ``ix_members_admitted_on_org``. Subtree: each organization's ``member_counts`` rows of
    the period (on PostgreSQL a LATERAL aggregate, so it is one primary-key range per organization)."""
    if within_path is None:
        per_node = (
            select(M.c.admitted_org_node.label("node"), func.count().label("admitted"))
            .where(M.c.admitted_on.between(start, end))
            .group_by(M.c.admitted_org_node)
            .subquery()
        )
        stmt = (
            select(
                V.c.parent_node,
                V.c.level,
                V.c.kind,
                func.sum(per_node.c.admitted).label("admitted"),
            )
            .select_from(per_node)
            .join(V, V.c.node == per_node.c.node)
            .where(valid_on(end))
            .group_by(V.c.parent_node, V.c.level, V.c.kind)
        )
        return [
            {**dict(r), **{e: 0 for e in counts.EVENTS if e != "admitted"}}
            for r in (await session.execute(stmt)).mappings().all()
        ]
    if _postgresql(session):
        per_org = (
            select(*(func.sum(K.c[e]).label(e) for e in counts.EVENTS))
            .where(K.c.org_node == V.c.node, K.c.day.between(start, end))
            .lateral("per_org")
        )
        stmt = (
            select(
                V.c.parent_node,
                V.c.level,
                V.c.kind,
                *(func.coalesce(func.sum(per_org.c[e]), 0).label(e) for e in counts.EVENTS),
            )
            .select_from(V)
            .join(per_org, true())
            .where(_scope(end, within_path))
            .group_by(V.c.parent_node, V.c.level, V.c.kind)
        )
    else:
        stmt = (
            select(V.c.parent_node, V.c.level, V.c.kind, *_EVENT_SUMS)
            .select_from(V)
            .join(K, and_(K.c.org_node == V.c.node, K.c.day.between(start, end)))
            .where(_scope(end, within_path))
            .group_by(V.c.parent_node, V.c.level, V.c.kind)
        )
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def active_on(session: AsyncSession, day: dt.date, within_path: str | None) -> dict[str, int]:
    """Members active on the day by status: for the whole system the sum of the day counts up to it; for a
    subtree, per organization of the subtree its latest ``member_counts`` row on or before the day."""
    if within_path is None:
        stmt = select(*(func.coalesce(func.sum(G.c[s]), 0) for s in counts.STATUSES)).where(G.c.day <= day)
    elif _postgresql(session):
        latest_row = (
            select(*(K.c[st] for st in counts.STATUSES))
            .where(K.c.org_node == V.c.node, K.c.day <= day)
            .order_by(K.c.day.desc())
            .limit(1)
            .lateral("latest")
        )
        stmt = (
            select(*(func.coalesce(func.sum(latest_row.c[st]), 0) for st in counts.STATUSES))
            .select_from(V)
            .join(latest_row, true())
            .where(_scope(day, within_path))
        )
    else:
        k2 = K.alias("k2")
        latest = (
            select(func.max(k2.c.day))
            .where(k2.c.org_node == V.c.node, k2.c.day <= day)
            .correlate(V)
            .scalar_subquery()
        )
        stmt = (
            select(*_STATUS_SUMS)
            .select_from(V)
            .join(K, and_(K.c.org_node == V.c.node, K.c.day == latest))
            .where(_scope(day, within_path))
        )
    row = (await session.execute(stmt)).one()
    return {s: int(n) for s, n in zip(counts.STATUSES, row, strict=True)}


async def subtree_members(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``events_by_admitting_parent`` and ``active_on(end)`` of a subtree, in one pass over its organizations
    on PostgreSQL: per organization, its ``member_counts`` rows of the period (a LATERAL aggregate) and its
    latest row on or before ``end`` (a LATERAL ``LIMIT 1``) — both read the same primary-key range, so the
    second look-up finds its pages in the buffer cache the first just read (two statements read them twice,
    and a committee's ~9,000 organizations' pages do not all stay in a small cache between statements).
    The groups also carry the status totals of ``counts.STATUSES``."""
    if not _postgresql(session):
        groups = await events_by_admitting_parent(session, start, end, within_path)
        return groups, await active_on(session, end, within_path)
    per_org = (
        select(*(func.sum(K.c[e]).label(e) for e in counts.EVENTS))
        .where(K.c.org_node == V.c.node, K.c.day.between(start, end))
        .lateral("per_org")
    )
    latest = (
        select(*(K.c[st] for st in counts.STATUSES))
        .where(K.c.org_node == V.c.node, K.c.day <= end)
        .order_by(K.c.day.desc())
        .limit(1)
        .lateral("latest")
    )
    stmt = (
        select(
            V.c.parent_node,
            V.c.level,
            V.c.kind,
            *(func.coalesce(func.sum(per_org.c[e]), 0).label(e) for e in counts.EVENTS),
            *(func.coalesce(func.sum(latest.c[st]), 0).label(st) for st in counts.STATUSES),
        )
        .select_from(V)
        .join(per_org, true())
        .outerjoin(latest, true())
        .where(_scope(end, within_path))
        .group_by(V.c.parent_node, V.c.level, V.c.kind)
    )
    groups = [dict(r) for r in (await session.execute(stmt)).mappings().all()]
    active = {st: sum(int(g[st]) for g in groups) for st in counts.STATUSES}
    return groups, active


async def events_in(session: AsyncSession, start: dt.date, end: dt.date) -> dict[str, int]:
    """The period's member events in the whole system (``member_day_counts``)."""
    stmt = select(*(func.coalesce(func.sum(G.c[e]), 0) for e in counts.EVENTS)).where(
        G.c.day.between(start, end)
    )
    row = (await session.execute(stmt)).one()
    return {e: int(n) for e, n in zip(counts.EVENTS, row, strict=True)}
