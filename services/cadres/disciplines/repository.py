"""Queries of disciplinary measures. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.disciplines.models import Discipline

D = Discipline.__table__


async def get(session: AsyncSession, discipline_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(D).where(D.c.id == discipline_id))).mappings().first()


async def insert_discipline(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(D).values(**values))


async def of_cadre(
    session: AsyncSession, cadre_id: uuid.UUID, *, after: tuple[str, str] | None, limit: int
) -> list[RowMapping]:
    stmt = select(D).where(D.c.cadre_id == cadre_id)
    if after is not None:
        day, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(D.c.decided_on > day, and_(D.c.decided_on == day, D.c.id > last_id)))
    stmt = stmt.order_by(D.c.decided_on, D.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
