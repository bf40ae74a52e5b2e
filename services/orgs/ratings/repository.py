"""Every query of ratings and of the threshold report. Nothing here commits; the unit of work does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.organizations.repository import V, in_subtree, valid_on
from services.orgs.ratings.models import OrganizationRating
from services.orgs.units.repository import COUNTED_STATUSES, MS, member_state_on

R = OrganizationRating.__table__

# The statements of setting a rating are built once, with bind parameters: building a select costs more CPU
# than running it on SQLite.
INSERT_RATING = insert(R).returning(*R.c)
LATEST_RATING = (
    select(R)
    .where(R.c.org_node == bindparam("node"), R.c.year == bindparam("year"))
    .order_by(R.c.id.desc())
    .limit(1)
)
# Whether the organization was active on some day of [start, end).
ACTIVE_BETWEEN = (
    select(V.c.id)
    .where(
        V.c.node == bindparam("node"),
        V.c.status == "active",
        V.c.valid_from < bindparam("end"),
        or_(V.c.valid_to.is_(None), V.c.valid_to > bindparam("start")),
        or_(V.c.valid_to.is_(None), V.c.valid_to > V.c.valid_from),  # not an empty, superseded state
    )
    .limit(1)
)


async def insert_rating(session: AsyncSession, **values: Any) -> RowMapping:
    result = await session.execute(INSERT_RATING, {"recorded_at": dt.datetime.now(dt.UTC), **values})
    return result.mappings().one()


async def latest(session: AsyncSession, node: int, year: int) -> RowMapping | None:
    return (await session.execute(LATEST_RATING, {"node": node, "year": year})).mappings().first()


def _latest_ids() -> Any:
    """The id of the latest recorded rating of each (organization, year): the one in force."""
    return select(func.max(R.c.id).label("id")).group_by(R.c.org_node, R.c.year)


async def in_force(session: AsyncSession, node: int) -> list[RowMapping]:
    latest_ids = _latest_ids().where(R.c.org_node == node).subquery()
    stmt = select(R).join(latest_ids, latest_ids.c.id == R.c.id).order_by(R.c.year.desc())
    return list((await session.execute(stmt)).mappings().all())


async def ratings_by_year(
    session: AsyncSession, first_year: int, last_year: int, within_path: str | None
) -> dict[int, dict[str, int]]:
    """Ratings in force per year and level, for the organizations inside ``within_path`` today."""
    latest_ids = _latest_ids().where(R.c.year.between(first_year, last_year)).subquery()
    stmt = (
        select(R.c.year, R.c.rating, func.count())
        .join(latest_ids, latest_ids.c.id == R.c.id)
        .group_by(R.c.year, R.c.rating)
    )
    if within_path is not None:
        stmt = stmt.join(V, and_(V.c.node == R.c.org_node, V.c.valid_to.is_(None))).where(
            in_subtree(V.c.path, within_path)
        )
    found: dict[int, dict[str, int]] = {}
    for year, rating, count in (await session.execute(stmt)).all():
        found.setdefault(int(year), {})[rating] = int(count)
    return found


async def active_between(session: AsyncSession, node: int, start: dt.date, end: dt.date) -> bool:
    """Whether the organization was active on some day of ``[start, end)``."""
    params = {"node": node, "start": start, "end": end}
    return (await session.execute(ACTIVE_BETWEEN, params)).first() is not None


async def member_counts(session: AsyncSession, path: str, day: dt.date) -> dict[str, dict[str, int]]:
    """Members on the day of each organization of the subtree (keyed by its path on the day), by status.

    A member counts in the home organization of the state in force on the day (a temporary transfer does
    not move the count).
    """
    stmt = (
        select(V.c.path, MS.c.status, func.count(func.distinct(MS.c.member_id)))
        .select_from(MS)
        .join(V, and_(V.c.node == MS.c.org_node, valid_on(day)))
        .where(member_state_on(day), MS.c.status.in_(COUNTED_STATUSES), in_subtree(V.c.path, path))
        .group_by(V.c.path, MS.c.status)
    )
    found: dict[str, dict[str, int]] = {}
    for node_path, status, count in (await session.execute(stmt)).all():
        found.setdefault(str(node_path), {})[status] = int(count)
    return found
