"""Queries of courses. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.courses.models import Course
from services.training.programmes.models import Programme

C = Course.__table__
G = Programme.__table__


def _with_programme() -> Any:
    return select(C, G.c.kind.label("programme_kind"), G.c.theory_level, G.c.theory_rank).join(
        G, G.c.id == C.c.programme_id
    )


# Built once, executed with parameters: scheduling and every enrollment run these, and building a statement
# (column coercion, cache key) costs more than running it; the compiled SQL is cached either way.
COURSE_WITH_PROGRAMME = _with_programme().where(C.c.id == bindparam("course_id"))
COURSE_ID_OF_CODE = select(C.c.id).where(C.c.code == bindparam("code"))
INSERT_COURSE = insert(C).returning(*C.c)  # the row as stored, which the response shows
TAKE_SEAT_IF_FREE = (
    update(C)
    .where(C.c.id == bindparam("b_id"), C.c.enrolled < C.c.capacity)
    .values(enrolled=C.c.enrolled + 1)
)
FREE_SEAT = update(C).where(C.c.id == bindparam("b_id"), C.c.enrolled > 0).values(enrolled=C.c.enrolled - 1)


async def get(session: AsyncSession, course_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(COURSE_WITH_PROGRAMME, {"course_id": course_id})).mappings().first()


async def by_code(session: AsyncSession, code: str) -> RowMapping | None:
    return (await session.execute(COURSE_ID_OF_CODE, {"code": code})).mappings().first()


async def insert_course(session: AsyncSession, **values: Any) -> RowMapping:
    """Insert; the row as stored (without its programme's columns)."""
    return (await session.execute(INSERT_COURSE, values)).mappings().one()


async def take_seat(session: AsyncSession, course_id: uuid.UUID) -> bool:
    """Take one seat if one is free: one atomic statement, so parallel requests never overbook.

    On PostgreSQL the row lock serializes concurrent updates and each re-checks ``enrolled < capacity``
    against the committed row; on SQLite writers are serialized anyway. False: the course is full.
    """
    result = await session.execute(TAKE_SEAT_IF_FREE, {"b_id": course_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def free_seat(session: AsyncSession, course_id: uuid.UUID) -> None:
    await session.execute(FREE_SEAT, {"b_id": course_id})


async def list_rows(
    session: AsyncSession,
    *,
    programme_id: uuid.UUID | None,
    start: dt.date | None,
    end: dt.date | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = _with_programme()
    if programme_id is not None:
        stmt = stmt.where(C.c.programme_id == programme_id)
    if start is not None:
        stmt = stmt.where(C.c.starts_on >= start)
    if end is not None:
        stmt = stmt.where(C.c.starts_on <= end)
    if after is not None:
        day, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(C.c.starts_on > day, and_(C.c.starts_on == day, C.c.id > last_id)))
    stmt = stmt.order_by(C.c.starts_on, C.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
