"""Queries of payroll entries. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.payroll.models import PayrollEntry
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

E = PayrollEntry.__table__
P = ProjectedOrganization.__table__


def _of_entry() -> Any:
    """Entries of one organization, year and category (parameters ``org_id``, ``year``, ``category``)."""
    return (
        E.c.org_id == bindparam("org_id"),
        E.c.year == bindparam("year"),
        E.c.category == bindparam("category"),
    )


# Built once and executed with parameters: building a statement costs more CPU than running it.
# The entry in force (the latest recorded) with how many entries there are (its version).
LATEST_ENTRY = (
    select(
        E,
        P.c.name.label("org_name"),
        select(func.count()).select_from(E).where(*_of_entry()).scalar_subquery().label("version"),
    )
    .join(P, P.c.id == E.c.org_id, isouter=True)
    .where(*_of_entry())
    .order_by(E.c.id.desc())
    .limit(1)
)
INSERT_ENTRY = insert(E)  # the columns are those of the parameters given
ENTRIES_OF_ORG = select(func.count()).select_from(E).where(E.c.org_id == bindparam("org_id"))


async def latest(session: AsyncSession, org_id: uuid.UUID, year: int, category: str) -> RowMapping | None:
    """The entry in force (the latest recorded) with how many entries there are (its version)."""
    params = {"org_id": org_id, "year": year, "category": category}
    return (await session.execute(LATEST_ENTRY, params)).mappings().first()


async def insert_entry(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_ENTRY, values)


async def entries_of_org(session: AsyncSession, org_id: uuid.UUID) -> int:
    return int((await session.execute(ENTRIES_OF_ORG, {"org_id": org_id})).scalar_one())


async def allocated_sums(
    session: AsyncSession, *, years: list[int], scope_path: str | None, within_path: str | None
) -> dict[tuple[int, str], int]:
    """Sum of the allocated headcount of the latest entries, per (year, category), over the subtree."""
    newest = (
        select(func.max(E.c.id).label("id"))
        .select_from(E.join(P, P.c.id == E.c.org_id))
        .where(E.c.year.in_(years))
        .group_by(E.c.org_id, E.c.year, E.c.category)
    )
    for path in (scope_path, within_path):
        if path is not None:
            newest = newest.where(in_subtree(P.c.path, path))
    stmt = (
        select(E.c.year, E.c.category, func.sum(E.c.allocated).label("allocated"))
        .where(E.c.id.in_(newest))
        .group_by(E.c.year, E.c.category)
    )
    return {(r.year, r.category): int(r.allocated) for r in await session.execute(stmt)}
