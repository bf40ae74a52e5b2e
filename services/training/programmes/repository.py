"""Queries of programmes. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.programmes.models import Programme

T = Programme.__table__


# Built once, executed with parameters: building a statement costs more than running it (the compiled SQL
# is cached either way).
PROGRAMME_OF_ID = select(T).where(T.c.id == bindparam("programme_id"))
PROGRAMME_OF_CODE = select(T).where(T.c.code == bindparam("code"))
INSERT_PROGRAMME = insert(T).returning(*T.c)  # the row as stored, which the response shows


async def get(session: AsyncSession, programme_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(PROGRAMME_OF_ID, {"programme_id": programme_id})).mappings().first()


async def by_code(session: AsyncSession, code: str) -> RowMapping | None:
    return (await session.execute(PROGRAMME_OF_CODE, {"code": code})).mappings().first()


async def insert_programme(session: AsyncSession, **values: Any) -> RowMapping:
    """Insert; the row as stored."""
    return (await session.execute(INSERT_PROGRAMME, values)).mappings().one()


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
