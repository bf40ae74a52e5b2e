"""Queries of programmes. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.programmes.models import Programme

T = Programme.__table__


async def get(session: AsyncSession, programme_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(T).where(T.c.id == programme_id))).mappings().first()


async def by_code(session: AsyncSession, code: str) -> RowMapping | None:
    return (await session.execute(select(T).where(T.c.code == code))).mappings().first()


async def insert_programme(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(T).values(**values))


async def list_rows(
    session: AsyncSession, *, kind: str | None, after: tuple[str, str] | None, limit: int
) -> list[RowMapping]:
    stmt = select(T)
    if kind:
        stmt = stmt.where(T.c.kind == kind)
    if after is not None:
        code, last_id = after
        stmt = stmt.where(or_(T.c.code > code, and_(T.c.code == code, T.c.id > uuid.UUID(last_id))))
    stmt = stmt.order_by(T.c.code, T.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
