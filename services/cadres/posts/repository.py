"""Queries of posts and their holders. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, and_, bindparam, func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.assignments.models import Assignment
from services.cadres.posts.models import Post
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

T = Post.__table__
A = Assignment.__table__
P = ProjectedOrganization.__table__


def holding_on(day: Any) -> Any:
    """Assignments in force on the day (started, not ended); ``day``: a date or a bound parameter."""
    return and_(A.c.starts_on <= day, or_(A.c.ends_on.is_(None), A.c.ends_on > day))


def _posts_with_holders(day: Any) -> Any:
    holders = (
        select(func.count()).select_from(A).where(A.c.post_id == T.c.id, holding_on(day)).scalar_subquery()
    )
    return select(
        T,
        P.c.name.label("org_name"),
        P.c.path.label("org_path"),
        P.c.status.label("org_status"),  # None: the organization is not in the projection
        P.c.level.label("org_level"),  # what planning ranks the post by
        holders.label("holders"),
    ).join(P, P.c.id == T.c.org_id, isouter=True)


# Built once and executed with parameters: building a statement costs more CPU than running it.
POST_WITH_HOLDERS_BY_ID = _posts_with_holders(bindparam("day", type_=Date)).where(
    T.c.id == bindparam("post_id")
)
INSERT_POST = insert(T)  # the columns are those of the parameters given


async def get(session: AsyncSession, post_id: uuid.UUID, day: dt.date) -> RowMapping | None:
    return (
        (await session.execute(POST_WITH_HOLDERS_BY_ID, {"post_id": post_id, "day": day})).mappings().first()
    )


async def insert_post(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_POST, values)


async def list_rows(
    session: AsyncSession,
    *,
    day: dt.date,
    scope_path: str | None,
    within_path: str | None,
    category: str | None,
    vacant: bool | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    base = _posts_with_holders(day)
    for path in (scope_path, within_path):
        if path is not None:
            base = base.where(in_subtree(P.c.path, path))
    if category:
        base = base.where(T.c.category == category)
    sub = base.subquery()
    stmt = select(sub)
    if vacant is not None:
        stmt = stmt.where(sub.c.holders < sub.c.seats if vacant else sub.c.holders >= sub.c.seats)
    if after is not None:
        path, last_id = after
        stmt = stmt.where(
            or_(sub.c.org_path > path, and_(sub.c.org_path == path, sub.c.id > uuid.UUID(last_id)))
        )
    stmt = stmt.order_by(sub.c.org_path, sub.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
