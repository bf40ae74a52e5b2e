"""Queries of enrollments. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from services.training.projections.models import ProjectedAssignment, ProjectedPlan, ProjectedPost
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree, subtree_bounds

E = Enrollment.__table__
A = ProjectedAssignment.__table__
L = ProjectedPlan.__table__
T = ProjectedPost.__table__
P = ProjectedOrganization.__table__


def _with_org() -> Any:
    return select(E, P.c.path.label("org_path")).join(P, P.c.id == E.c.sent_by_org_id, isouter=True)


# Built once, executed with parameters: every enrollment write runs these, and building a statement (column
# coercion, aliases, cache key) costs more than running it; the compiled SQL is cached either way.
ENROLLMENT_WITH_ORG_PATH = _with_org().where(E.c.id == bindparam("enrollment_id"))
OPEN_OR_COMPLETED_OF_CADRE_IN_COURSE = select(E.c.id, E.c.status).where(
    E.c.course_id == bindparam("course_id"),
    E.c.cadre_id == bindparam("cadre_id"),
    E.c.status.in_(("enrolled", "completed")),
)
# Both return the row as stored, which the response shows (no second read).
INSERT_ENROLLMENT = insert(E).returning(*E.c)
# SET: the columns given as parameters (``version`` and the closing fields).
CLOSE_IF_ENROLLED_AT_VERSION = (
    update(E)
    .where(E.c.id == bindparam("b_id"), E.c.status == "enrolled", E.c.version == bindparam("b_version"))
    .returning(*E.c)
)


def _posts_held_or_planned() -> Any:
    """The posts a cadre (``:cadre_id``) holds or is planned for on ``:day``, with their org's level."""
    cadre_id, day = bindparam("cadre_id", type_=E.c.cadre_id.type), bindparam("day", type_=Date)
    held = select(A.c.post_id, A.c.cadre_id).where(
        A.c.cadre_id == cadre_id, A.c.starts_on <= day, or_(A.c.ends_on.is_(None), A.c.ends_on > day)
    )
    planned = select(L.c.post_id, L.c.cadre_id).where(
        L.c.cadre_id == cadre_id, L.c.added_on <= day, or_(L.c.removed_on.is_(None), L.c.removed_on > day)
    )
    links = held.union(planned).subquery()
    return (
        select(T.c.id, T.c.title, T.c.category, P.c.level.label("org_level"))
        .select_from(links)
        .join(T, T.c.id == links.c.post_id)
        .join(P, P.c.id == T.c.org_id, isouter=True)
    )


POSTS_HELD_OR_PLANNED = _posts_held_or_planned()


async def get(session: AsyncSession, enrollment_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(ENROLLMENT_WITH_ORG_PATH, {"enrollment_id": enrollment_id})
    return result.mappings().first()


async def open_or_completed(
    session: AsyncSession, course_id: uuid.UUID, cadre_id: uuid.UUID
) -> RowMapping | None:
    result = await session.execute(
        OPEN_OR_COMPLETED_OF_CADRE_IN_COURSE, {"course_id": course_id, "cadre_id": cadre_id}
    )
    return result.mappings().first()


async def insert_enrollment(session: AsyncSession, **values: Any) -> RowMapping:
    """Insert; the row as stored."""
    return (await session.execute(INSERT_ENROLLMENT, values)).mappings().one()


async def close(
    session: AsyncSession, enrollment_id: uuid.UUID, version: int, **values: Any
) -> RowMapping | None:
    """Close an open enrollment (optimistically: only if still ``enrolled`` at ``version``); the row as
    closed, or None if it was not open at that version."""
    result = await session.execute(
        CLOSE_IF_ENROLLED_AT_VERSION,
        {"b_id": enrollment_id, "b_version": version, "version": version + 1, **values},
    )
    return result.mappings().first()


async def posts_of(session: AsyncSession, cadre_id: uuid.UUID, day: dt.date) -> list[RowMapping]:
    """The posts the cadre holds or is planned for on the day, with their organization's level."""
    result = await session.execute(POSTS_HELD_OR_PLANNED, {"cadre_id": cadre_id, "day": day})
    return list(result.mappings().all())


# A cadre's enrollments (a profile's), unscoped or sent by organizations in ``[lo, hi)``: built once each.
ENROLLMENTS_OF_CADRE = (
    _with_org()
    .where(E.c.cadre_id == bindparam("cadre_id"))
    .order_by(E.c.sent_on, E.c.id)
    .limit(bindparam("limit"))
)
ENROLLMENTS_OF_CADRE_IN = (
    select(E, P.c.path.label("org_path"))
    .join(P, P.c.id == E.c.sent_by_org_id)
    .where(E.c.cadre_id == bindparam("cadre_id"), P.c.path >= bindparam("lo"), P.c.path < bindparam("hi"))
    .order_by(E.c.sent_on, E.c.id)
    .limit(bindparam("limit"))
)


async def enrollments_of_cadre(
    session: AsyncSession, cadre_id: uuid.UUID, *, scope_path: str | None, limit: int
) -> list[RowMapping]:
    """As ``list_rows(scope_path=, cadre_id=)`` from the first page: at most ``limit + 1`` rows."""
    params: dict[str, Any] = {"cadre_id": cadre_id, "limit": limit + 1}
    if scope_path is None:
        stmt = ENROLLMENTS_OF_CADRE
    else:
        stmt = ENROLLMENTS_OF_CADRE_IN
        params["lo"], params["hi"] = subtree_bounds(scope_path)
    return list((await session.execute(stmt, params)).mappings().all())


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
