"""Every query of cadres. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
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


# The statements of the write paths are built once, here, and executed with parameters: building a
# statement (coercing its columns, then computing its cache key) costs more CPU than running it.
CADRE_BY_ID = _with_org().where(K.c.id == bindparam("cadre_id"))
INSERT_CADRE = insert(K)  # the columns are those of the parameters given
# SET version + 1 and the columns of the parameters given besides ``b_cadre_id`` (a column's name is
# reserved for its SET value).
BUMP_CADRE = (
    update(K).where(K.c.id == bindparam("b_cadre_id")).values(version=K.c.version + 1).returning(K.c.version)
)
INSERT_CHANGE = insert(CadreChange.__table__)
INSERT_SENSITIVE_READ = insert(SensitiveRead.__table__)


async def get(session: AsyncSession, cadre_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(CADRE_BY_ID, {"cadre_id": cadre_id})).mappings().first()


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
    await session.execute(INSERT_CADRE, values)


async def update_cadre(session: AsyncSession, cadre_id: uuid.UUID, **values: Any) -> int:
    result = await session.execute(BUMP_CADRE, {**values, "b_cadre_id": cadre_id})
    return int(result.scalar_one())


async def record_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_CHANGE, values)


async def record_sensitive_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_SENSITIVE_READ, values)
