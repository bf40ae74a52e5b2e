"""Queries of attained levels: completed political theory enrollments. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from services.training.qualifications.models import QualificationVersion

E = Enrollment.__table__
V = QualificationVersion.__table__


def completed_theory(as_of: dt.date) -> list[Any]:
    """Completed political theory enrollments by ``as_of`` (the partial index ``ix_enrollments_attained``)."""
    return [E.c.status == "completed", E.c.programme_kind == "political_theory", E.c.completed_on <= as_of]


async def course_rank(session: AsyncSession, cadre_id: uuid.UUID, as_of: dt.date) -> int:
    """The highest level completed by ``as_of`` (0: none)."""
    stmt = select(func.max(E.c.theory_rank)).where(E.c.cadre_id == cadre_id, *completed_theory(as_of))
    return int((await session.execute(stmt)).scalar_one_or_none() or 0)


async def completions(session: AsyncSession, cadre_id: uuid.UUID, as_of: dt.date) -> list[RowMapping]:
    stmt = (
        select(E.c.id, E.c.course_id, E.c.theory_level, E.c.completed_on, E.c.certificate_no)
        .where(E.c.cadre_id == cadre_id, *completed_theory(as_of))
        .order_by(E.c.completed_on, E.c.theory_rank, E.c.id)
    )
    return list((await session.execute(stmt)).mappings().all())


async def next_version(session: AsyncSession, cadre_id: uuid.UUID) -> int:
    """The next ``sequence`` of the cadre's qualification events (1 for the first)."""
    result = await session.execute(
        update(V).where(V.c.cadre_id == cadre_id).values(version=V.c.version + 1).returning(V.c.version)
    )
    version = result.scalar_one_or_none()
    if version is not None:
        return int(version)
    await session.execute(V.insert().values(cadre_id=cadre_id, version=1))
    return 1
