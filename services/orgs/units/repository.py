"""Every query of residential units and of coverage. Nothing here commits; the unit of work does.

Members are read from the members' own table ``member_states`` through a lightweight table construct (the
columns this module needs), so units do not depend on the members package's code: the member's state over
``[valid_from, valid_to)`` with its ``status`` and the ``residence_unit_id`` where the member lives.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Uuid,
    and_,
    bindparam,
    column,
    insert,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.organizations.repository import O, V, in_subtree
from services.orgs.units.models import ResidentialUnit, ResidentialUnitState

U = ResidentialUnit.__table__
S = ResidentialUnitState.__table__
MS = table(
    "member_states",
    column("member_id", Uuid),
    column("valid_from", Date),
    column("valid_to", Date),
    column("status", String),
    column("org_node", Integer),
    column("residence_unit_id", Uuid),
)
# Members who count as Party members of an organization or as residents of a unit (not those who left).
COUNTED_STATUSES = ("probationary", "official", "exempt")

ROW_COLUMNS = (
    U.c.id,
    U.c.version,
    U.c.established_on,
    S.c.valid_from,
    S.c.valid_to,
    S.c.name,
    S.c.name_search,
    S.c.kind,
    S.c.commune_node,
    S.c.covering_node,
)


def state_on(day: dt.date) -> Any:
    return and_(S.c.valid_from <= day, or_(S.c.valid_to.is_(None), S.c.valid_to > day))


def member_state_on(day: dt.date) -> Any:
    return and_(MS.c.valid_from <= day, or_(MS.c.valid_to.is_(None), MS.c.valid_to > day))


def _rows() -> Any:
    return select(*ROW_COLUMNS).join(U, U.c.id == S.c.unit_id)


# ----------------------------------------------------------------------------------- prebuilt statements
# The statements of the write paths (and the reads they make) are built once, here, with bind parameters:
# building a select costs more CPU than running it on SQLite. Bind names of DML avoid column names (``p_``):
# an UPDATE would otherwise take a parameter named like a column as a SET value.

IDENTITY_OF_ID = select(U).where(U.c.id == bindparam("unit_id"))
ROW_OF_ID_AT = _rows().where(
    S.c.unit_id == bindparam("unit_id"),
    S.c.valid_from <= bindparam("day"),
    or_(S.c.valid_to.is_(None), S.c.valid_to > bindparam("day")),
)
CURRENT_ROW_OF_ID = _rows().where(S.c.unit_id == bindparam("unit_id"), S.c.valid_to.is_(None))
ORGANIZATION_OF_NODE = select(O).where(O.c.node == bindparam("node"))
CURRENT_STATE_OF_ID = select(S).where(S.c.unit_id == bindparam("unit_id"), S.c.valid_to.is_(None))
INSERT_UNIT = insert(U)
INSERT_STATE = insert(S)
CLOSE_STATE = update(S).where(S.c.id == bindparam("p_id")).values(valid_to=bindparam("p_valid_to"))
BUMP_VERSION = (
    update(U).where(U.c.id == bindparam("p_unit_id")).values(version=U.c.version + 1).returning(U.c.version)
)


# ---------------------------------------------------------------------------------------------- lookups


async def identity(session: AsyncSession, unit_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(IDENTITY_OF_ID, {"unit_id": unit_id})).mappings().first()


async def row_at(session: AsyncSession, unit_id: uuid.UUID, day: dt.date) -> RowMapping | None:
    return (await session.execute(ROW_OF_ID_AT, {"unit_id": unit_id, "day": day})).mappings().first()


async def current_row(session: AsyncSession, unit_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(CURRENT_ROW_OF_ID, {"unit_id": unit_id})).mappings().first()


async def organization_of_node(session: AsyncSession, node: int) -> RowMapping:
    return (await session.execute(ORGANIZATION_OF_NODE, {"node": node})).mappings().one()


# ------------------------------------------------------------------------------------------------ reads


def _in_scope(scope_path: str) -> Any:
    """The unit's commune organization lies in the caller's subtree as it stands today."""
    current = V.alias("scope_cur")
    return (
        select(current.c.node)
        .where(
            current.c.node == S.c.commune_node,
            current.c.valid_to.is_(None),
            in_subtree(current.c.path, scope_path),
        )
        .exists()
    )


def _within(day: dt.date, within_path: str) -> Any:
    """The unit's commune organization lies in the subtree on the day."""
    commune = V.alias("commune_on")
    return (
        select(commune.c.node)
        .where(
            commune.c.node == S.c.commune_node,
            commune.c.valid_from <= day,
            or_(commune.c.valid_to.is_(None), commune.c.valid_to > day),
            in_subtree(commune.c.path, within_path),
        )
        .exists()
    )


def _filtered(day: dt.date, within_path: str | None, scope_path: str | None, commune_node: int | None) -> Any:
    stmt = _rows().where(state_on(day))
    if within_path is not None:
        stmt = stmt.where(_within(day, within_path))
    if scope_path is not None:
        stmt = stmt.where(_in_scope(scope_path))
    if commune_node is not None:
        stmt = stmt.where(S.c.commune_node == commune_node)
    return stmt


async def list_rows(
    session: AsyncSession,
    *,
    day: dt.date,
    within_path: str | None,
    scope_path: str | None,
    commune_node: int | None,
    q_pattern: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = _filtered(day, within_path, scope_path, commune_node)
    if q_pattern:
        stmt = stmt.where(S.c.name_search.like(q_pattern, escape="\\"))
    if after is not None:
        name_search, unit_id = after
        stmt = stmt.where(
            or_(S.c.name_search > name_search, and_(S.c.name_search == name_search, S.c.unit_id > unit_id))
        )
    stmt = stmt.order_by(S.c.name_search, S.c.unit_id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


def _covered(day: dt.date) -> Any:
    """An active organization covers the unit on the day."""
    cell = V.alias("cell_on")
    return (
        select(cell.c.node)
        .where(
            cell.c.node == S.c.covering_node,
            cell.c.valid_from <= day,
            or_(cell.c.valid_to.is_(None), cell.c.valid_to > day),
            cell.c.status == "active",
        )
        .exists()
    )


async def inhabited_units(session: AsyncSession, day: dt.date, units: Any) -> set[uuid.UUID]:
    """Which of ``units`` (a select of unit ids) a Party member (not one who left) lives in on the day.

    One pass over the members' states valid on the day, probing the units (no index on the members' side
    needed, unlike a correlated EXISTS per unit).
    """
    stmt = (
        select(MS.c.residence_unit_id)
        .where(member_state_on(day), MS.c.status.in_(COUNTED_STATUSES), MS.c.residence_unit_id.in_(units))
        .distinct()
    )
    return {unit_id for (unit_id,) in (await session.execute(stmt)).all()}


async def coverage_rows(
    session: AsyncSession, *, day: dt.date, within_path: str | None, scope_path: str | None
) -> list[dict[str, Any]]:
    """Every unit of the communes within the subtree on the day, with ``covered`` and ``inhabited`` flags."""
    filtered = _filtered(day, within_path, scope_path, None)
    stmt = filtered.add_columns(_covered(day).label("covered")).order_by(S.c.name_search, S.c.unit_id)
    rows = (await session.execute(stmt)).mappings().all()
    unit_ids = filtered.with_only_columns(S.c.unit_id)
    inhabited = await inhabited_units(session, day, unit_ids) if rows else set()
    return [{**row, "inhabited": row["id"] in inhabited} for row in rows]


async def coverage_counts(session: AsyncSession, *, day: dt.date, within_path: str | None) -> dict[str, int]:
    """The coverage figures of the sector report: units, units without a cell, units without members."""
    rows = await coverage_rows(session, day=day, within_path=within_path, scope_path=None)
    return {
        "units_total": len(rows),
        "units_without_cell": sum(1 for r in rows if not r["covered"]),
        "units_without_members": sum(1 for r in rows if not r["inhabited"]),
    }


# ----------------------------------------------------------------------------------------------- writes


async def insert_unit(
    session: AsyncSession, *, unit_id: uuid.UUID, established_on: dt.date, recorded_by: str | None
) -> None:
    await session.execute(
        INSERT_UNIT,
        {
            "id": unit_id,
            "version": 1,
            "established_on": established_on,
            "recorded_at": dt.datetime.now(dt.UTC),
            "recorded_by": recorded_by,
        },
    )


async def insert_state(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_STATE, {"recorded_at": dt.datetime.now(dt.UTC), **values})


async def new_state(session: AsyncSession, unit_id: uuid.UUID, day: dt.date, **changes: Any) -> None:
    """Close the unit's current state on ``day`` and open a new one with ``changes`` applied."""
    current = (await session.execute(CURRENT_STATE_OF_ID, {"unit_id": unit_id})).mappings().one()
    await session.execute(CLOSE_STATE, {"p_id": current["id"], "p_valid_to": day})
    values = {k: v for k, v in current.items() if k not in ("id", "recorded_at")}
    values.update(changes, valid_from=day, valid_to=None)
    await insert_state(session, **values)


async def bump_version(session: AsyncSession, unit_id: uuid.UUID) -> int:
    return int((await session.execute(BUMP_VERSION, {"p_unit_id": unit_id})).scalar_one())
