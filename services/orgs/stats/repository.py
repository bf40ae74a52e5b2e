"""The queries of the sector report. Counts are grouped by organization in SQL; the classification by the
kind of the grassroots organization is then a walk over the tree as it stood on the last day of the period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members.models import Member, MemberState
from services.orgs.organizations.models import Organization, OrganizationChange, OrganizationVersion
from services.orgs.organizations.repository import in_subtree, valid_on

V = OrganizationVersion.__table__
O = Organization.__table__  # noqa: E741
C = OrganizationChange.__table__
M = Member.__table__
S = MemberState.__table__

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


def _grouped(stmt: Any) -> Any:
    return stmt.group_by(S.c.org_node)


def _in_tree(day: dt.date, within_path: str | None) -> Any:
    """Members whose organization lies in the subtree as it stood on ``day`` (True without a subtree)."""
    if within_path is None:
        return True
    return S.c.org_node.in_(select(V.c.node).where(valid_on(day), in_subtree(V.c.path, within_path)))


async def admitted_by_node(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> dict[int, int]:
    """Members admitted in the period, by the organization that admitted them."""
    stmt = select(M.c.admitted_org_node, func.count()).where(M.c.admitted_on.between(start, end))
    if within_path is not None:
        stmt = stmt.where(
            M.c.admitted_org_node.in_(
                select(V.c.node).where(valid_on(end), in_subtree(V.c.path, within_path))
            )
        )
    stmt = stmt.group_by(M.c.admitted_org_node)
    return {int(n): int(c) for n, c in (await session.execute(stmt)).all() if n is not None}


async def recognized_by_node(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> dict[int, int]:
    """Members recognized as official in the period (the state that began with the recognition)."""
    stmt = _grouped(
        select(S.c.org_node, func.count(func.distinct(S.c.member_id))).where(
            S.c.status == "official",
            S.c.recognized_on.between(start, end),
            S.c.valid_from == S.c.recognized_on,
            _in_tree(end, within_path),
        )
    )
    return {int(n): int(c) for n, c in (await session.execute(stmt)).all()}


async def left_by_node_and_reason(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> list[tuple[int, str, int]]:
    stmt = (
        select(S.c.org_node, S.c.left_reason, func.count(func.distinct(S.c.member_id)))
        .where(S.c.status == "left", S.c.valid_from.between(start, end), _in_tree(end, within_path))
        .group_by(S.c.org_node, S.c.left_reason)
    )
    return [(int(n), str(r), int(c)) for n, r, c in (await session.execute(stmt)).all()]


async def active_by_node_and_status(
    session: AsyncSession, day: dt.date, within_path: str | None
) -> list[tuple[int, str, int]]:
    stmt = (
        select(S.c.org_node, S.c.status, func.count())
        .where(
            S.c.status.in_(ACTIVE_STATUSES),
            S.c.valid_from <= day,
            and_(S.c.valid_to.is_(None) | (S.c.valid_to > day)),
            _in_tree(day, within_path),
        )
        .group_by(S.c.org_node, S.c.status)
    )
    return [(int(n), str(s), int(c)) for n, s, c in (await session.execute(stmt)).all()]
