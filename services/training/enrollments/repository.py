"""Queries of enrollments. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from services.training.projections.models import ProjectedAssignment, ProjectedPlan, ProjectedPost
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

E = Enrollment.__table__
A = ProjectedAssignment.__table__
L = ProjectedPlan.__table__
T = ProjectedPost.__table__
P = ProjectedOrganization.__table__


def _with_org() -> Any:
    return select(E, P.c.path.label("org_path")).join(P, P.c.id == E.c.sent_by_org_id, isouter=True)


async def get(session: AsyncSession, enrollment_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(_with_org().where(E.c.id == enrollment_id))).mappings().first()


async def open_or_completed(
    session: AsyncSession, course_id: uuid.UUID, cadre_id: uuid.UUID
) -> RowMapping | None:
    stmt = select(E.c.id, E.c.status).where(
        E.c.course_id == course_id, E.c.cadre_id == cadre_id, E.c.status.in_(("enrolled", "completed"))
    )
    return (await session.execute(stmt)).mappings().first()


async def insert_enrollment(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(E).values(**values))


async def close(session: AsyncSession, enrollment_id: uuid.UUID, version: int, **values: Any) -> bool:
    """Close an open enrollment (optimistically: only if still ``enrolled`` at ``version``)."""
    result = await session.execute(
        update(E)
        .where(E.c.id == enrollment_id, E.c.status == "enrolled", E.c.version == version)
        .values(version=version + 1, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def posts_of(session: AsyncSession, cadre_id: uuid.UUID, day: dt.date) -> list[RowMapping]:
    """The posts the cadre holds or is planned for on the day, with their organization's level."""
    held = select(A.c.post_id, A.c.cadre_id).where(
        A.c.cadre_id == cadre_id, A.c.starts_on <= day, or_(A.c.ends_on.is_(None), A.c.ends_on > day)
    )
    planned = select(L.c.post_id, L.c.cadre_id).where(
        L.c.cadre_id == cadre_id, L.c.added_on <= day, or_(L.c.removed_on.is_(None), L.c.removed_on > day)
    )
    links = held.union(planned).subquery()
    stmt = (
        select(T.c.id, T.c.title, T.c.category, P.c.level.label("org_level"))
        .select_from(links)
        .join(T, T.c.id == links.c.post_id)
        .join(P, P.c.id == T.c.org_id, isouter=True)
    )
    return list((await session.execute(stmt)).mappings().all())


async def list_rows(
    session: AsyncSession,
    *,
    scope_path: str | None,
    within_path: str | None,
    course_id: uuid.UUID | None,
    cadre_id: uuid.UUID | None,
    status: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = _with_org()
    paths = [p for p in (scope_path, within_path) if p is not None]
    if paths:
        stmt = select(E, P.c.path.label("org_path")).join(P, P.c.id == E.c.sent_by_org_id)
        for path in paths:
            stmt = stmt.where(in_subtree(P.c.path, path))
    if course_id is not None:
        stmt = stmt.where(E.c.course_id == course_id)
    if cadre_id is not None:
        stmt = stmt.where(E.c.cadre_id == cadre_id)
    if status is not None:
        stmt = stmt.where(E.c.status == status)
    if after is not None:
        day, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(E.c.sent_on > day, and_(E.c.sent_on == day, E.c.id > last_id)))
    stmt = stmt.order_by(E.c.sent_on, E.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
