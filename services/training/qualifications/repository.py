"""Queries of attained levels: completed political theory enrollments. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, bindparam, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from services.training.qualifications.models import QualificationVersion

E = Enrollment.__table__
V = QualificationVersion.__table__


def completed_theory(as_of: dt.date) -> list[Any]:
    """Completed political theory enrollments by ``as_of`` (the partial index ``ix_enrollments_attained``)."""
    return [E.c.status == "completed", E.c.programme_kind == "political_theory", E.c.completed_on <= as_of]


# Built once, executed with parameters: each enrollment and completion reads the attained level, and building
# the statement costs more than running it (the compiled SQL is cached either way).
HIGHEST_COMPLETED_RANK = select(func.max(E.c.theory_rank)).where(
    E.c.cadre_id == bindparam("cadre_id"), *completed_theory(bindparam("as_of", type_=Date))
)
NEXT_VERSION = (
    update(V)
    .where(V.c.cadre_id == bindparam("b_cadre_id"))
    .values(version=V.c.version + 1)
    .returning(V.c.version)
)
FIRST_VERSION = V.insert().values(version=1)


async def course_rank(session: AsyncSession, cadre_id: uuid.UUID, as_of: dt.date) -> int:
    """The highest level completed by ``as_of`` (0: none)."""
    result = await session.execute(HIGHEST_COMPLETED_RANK, {"cadre_id": cadre_id, "as_of": as_of})
    return int(result.scalar_one_or_none() or 0)


COMPLETIONS = (
    select(E.c.id, E.c.course_id, E.c.theory_level, E.c.theory_rank, E.c.completed_on, E.c.certificate_no)
    .where(E.c.cadre_id == bindparam("cadre_id"), *completed_theory(bindparam("as_of", type_=Date)))
    .order_by(E.c.completed_on, E.c.theory_rank, E.c.id)
)


async def completions(session: AsyncSession, cadre_id: uuid.UUID, as_of: dt.date) -> list[RowMapping]:
    """The cadre's completed political theory enrollments by ``as_of``, by completion day."""
    return list((await session.execute(COMPLETIONS, {"cadre_id": cadre_id, "as_of": as_of})).mappings().all())


async def next_version(session: AsyncSession, cadre_id: uuid.UUID) -> int:
    """The next ``sequence`` of the cadre's qualification events (1 for the first)."""
    result = await session.execute(NEXT_VERSION, {"b_cadre_id": cadre_id})
    version = result.scalar_one_or_none()
    if version is not None:
        return int(version)
    await session.execute(FIRST_VERSION, {"cadre_id": cadre_id})
    return 1
