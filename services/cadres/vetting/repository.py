"""Queries of vetting records and their audit. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.vetting.models import VettingAudit, VettingRecord

R = VettingRecord.__table__
AUDIT = VettingAudit.__table__


async def insert_record(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(R).values(**values))


async def get(session: AsyncSession, record_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(R).where(R.c.id == record_id))).mappings().first()


async def of_cadre(session: AsyncSession, cadre_id: uuid.UUID) -> list[RowMapping]:
    stmt = select(R).where(R.c.cadre_id == cadre_id).order_by(R.c.recorded_at, R.c.id)
    return list((await session.execute(stmt)).mappings().all())


async def all_tokens(session: AsyncSession) -> list[RowMapping]:
    return list((await session.execute(select(R.c.id, R.c.token).order_by(R.c.id))).mappings().all())


async def replace_token(session: AsyncSession, record_id: uuid.UUID, token: str) -> None:
    await session.execute(update(R).where(R.c.id == record_id).values(token=token))


async def audit(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(AUDIT), rows)
