"""Queries of training plans and their progress. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, distinct, extract, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from services.training.plans.models import TrainingPlan, utcnow
from services.training.programmes.models import Programme
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

TP = TrainingPlan.__table__
E = Enrollment.__table__
G = Programme.__table__
P = ProjectedOrganization.__table__


def _sent(*status: Any) -> Any:
    """Distinct cadres the plan's organization sent in the plan's year to the programme's courses."""
    return (
        select(func.count(distinct(E.c.cadre_id)))
        .where(
            E.c.sent_by_org_id == TP.c.org_id,
            E.c.programme_id == TP.c.programme_id,
            extract("year", E.c.sent_on) == TP.c.year,
            *status,
        )
        .scalar_subquery()
    )


def _with_progress() -> Any:
    return (
        select(
            TP,
            P.c.name.label("org_name"),
            P.c.path.label("org_path"),
            G.c.code.label("programme_code"),
            G.c.name.label("programme_name"),
            _sent(E.c.status != "withdrawn").label("enrolled"),
            _sent(E.c.status == "completed").label("completed"),
        )
        .join(G, G.c.id == TP.c.programme_id)
        .join(P, P.c.id == TP.c.org_id, isouter=True)
    )


def _key(year: int, org_id: uuid.UUID, programme_id: uuid.UUID) -> Any:
    return and_(TP.c.year == year, TP.c.org_id == org_id, TP.c.programme_id == programme_id)


async def get(
    session: AsyncSession, year: int, org_id: uuid.UUID, programme_id: uuid.UUID
) -> RowMapping | None:
    stmt = _with_progress().where(_key(year, org_id, programme_id))
    return (await session.execute(stmt)).mappings().first()


async def current_version(
    session: AsyncSession, year: int, org_id: uuid.UUID, programme_id: uuid.UUID
) -> int | None:
    stmt = select(TP.c.version).where(_key(year, org_id, programme_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def insert_plan(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(TP).values(updated_at=utcnow(), version=1, **values))


async def update_plan(
    session: AsyncSession, year: int, org_id: uuid.UUID, programme_id: uuid.UUID, version: int, **values: Any
) -> bool:
    result = await session.execute(
        update(TP)
        .where(_key(year, org_id, programme_id), TP.c.version == version)
        .values(version=version + 1, updated_at=utcnow(), **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_rows(
    session: AsyncSession,
    *,
    year: int | None,
    paths: list[str],
    after: tuple[int, str, str] | None,
    limit: int,
) -> list[RowMapping]:
    sub = _with_progress()
    if year is not None:
        sub = sub.where(TP.c.year == year)
    for path in paths:
        sub = sub.where(in_subtree(P.c.path, path))
    inner = sub.subquery()
    stmt = select(inner)
    if after is not None:
        y, path, code = after
        stmt = stmt.where(
            or_(
                inner.c.year > y,
                and_(inner.c.year == y, inner.c.org_path > path),
                and_(inner.c.year == y, inner.c.org_path == path, inner.c.programme_code > code),
            )
        )
    stmt = stmt.order_by(inner.c.year, inner.c.org_path, inner.c.programme_code).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())
