"""Every query of cadres. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres.models import Cadre, CadreChange, SensitiveRead
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

K = Cadre.__table__
P = ProjectedOrganization.__table__


def _with_org() -> Any:
    return select(K, P.c.name.label("org_name"), P.c.path.label("org_path")).join(
        P, P.c.id == K.c.org_id, isouter=True
    )


async def get(session: AsyncSession, cadre_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(_with_org().where(K.c.id == cadre_id))).mappings().first()


async def list_rows(
    session: AsyncSession,
    *,
    scope_path: str | None,
    within_path: str | None,
    status: str | None,
    q_pattern: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = _with_org()
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    if status:
        stmt = stmt.where(K.c.status == status)
    if q_pattern:
        stmt = stmt.where(K.c.name_search.like(q_pattern, escape="\\"))
    if after is not None:
        key, last_id = after
        stmt = stmt.where(or_(K.c.sort_key > key, and_(K.c.sort_key == key, K.c.id > uuid.UUID(last_id))))
    stmt = stmt.order_by(K.c.sort_key, K.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


async def insert_cadre(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(K).values(**values))


async def update_cadre(session: AsyncSession, cadre_id: uuid.UUID, **values: Any) -> int:
    result = await session.execute(
        update(K).where(K.c.id == cadre_id).values(version=K.c.version + 1, **values).returning(K.c.version)
    )
    return int(result.scalar_one())


async def record_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(CadreChange.__table__).values(**values))


async def record_sensitive_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(SensitiveRead.__table__).values(**values))
