"""Queries and writes of the organization projection. Nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from shared.orgtree.models import ProjectedOrganization
from shared.tree import b36, child_path, in_subtree

P = ProjectedOrganization.__table__

# Built once: every organization event and every look-up runs these, and building a statement costs more
# than running it (SQLAlchemy's construction and coercion; the compiled SQL is cached either way).
_BY_ID = select(P).where(P.c.id == bindparam("org_id"))
_INSERT = insert(P).returning(P.c.node)
_SET_PATH = update(P).where(P.c.node == bindparam("b_node")).values(path=bindparam("b_path"))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def by_id(session: AsyncSession, org_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(_BY_ID, {"org_id": org_id})).mappings().first()


async def by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, RowMapping]:
    if not ids:
        return {}
    rows = (await session.execute(select(P).where(P.c.id.in_(ids)))).mappings().all()
    return {row["id"]: row for row in rows}


async def insert_org(session: AsyncSession, *, parent_path: str | None, values: dict[str, Any]) -> None:
    """Insert with a path under the parent's (the node is allocated first, then the path is set)."""
    result = await session.execute(_INSERT, {"path": "", "updated_at": now(), **values})
    node = int(result.scalar_one())
    await session.execute(_SET_PATH, {"b_node": node, "b_path": child_path(parent_path, node)})


async def update_org(session: AsyncSession, org_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(P).where(P.c.id == org_id).values(updated_at=now(), **values))


async def rehome(session: AsyncSession, row: RowMapping, new_parent: RowMapping) -> None:
    """Move the organization's subtree under ``new_parent``: rewrite the path prefix of the whole subtree."""
    old = row["path"]
    new = child_path(new_parent["path"], row["node"])
    assert old.endswith(f"/{b36(row['node'])}/")
    await session.execute(
        update(P)
        .where(in_subtree(P.c.path, old))
        .values(path=literal(new) + func.substr(P.c.path, len(old) + 1), updated_at=now())
    )
    await session.execute(update(P).where(P.c.node == row["node"]).values(parent_id=new_parent["id"]))


def tags_text(tags: list[str]) -> str:
    ordered = sorted(set(tags))
    return f"|{'|'.join(ordered)}|" if ordered else ""
