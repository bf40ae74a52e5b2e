"""Programmes: the catalogue is the province's, readable by every caller and written by trainers.

A programme is never changed once recorded (courses and enrollments copy its kind and level), so it has no
event of its own: ``training.course.scheduled`` carries its kind and level to subscribers.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.levels import theory_rank
from services.training.programmes import repository as repo
from services.training.programmes.schemas import ProgrammeCreate
from shared.auth import Principal, require_role
from shared.problems import NotFound, Problem

WRITE_ROLES = ("trainer",)


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "theory_level": row["theory_level"],
        "duration_months": row["duration_months"],
        "version": row["version"],
    }


async def get(session: AsyncSession, programme_id: uuid.UUID) -> RowMapping:
    row = await repo.get(session, programme_id)
    if row is None:
        raise NotFound("programme", f"No programme {programme_id}.")
    return row


async def create(session: AsyncSession, principal: Principal, body: ProgrammeCreate) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="define programmes")
    if await repo.by_code(session, body.code) is not None:
        raise Problem(409, f"A programme with code {body.code} exists.", slug="duplicate-code")
    level = body.theory_level.value if body.theory_level else None
    row = await repo.insert_programme(
        session,
        id=uuid.uuid4(),
        code=body.code,
        name=body.name,
        kind=body.kind.value,
        theory_level=level,
        theory_rank=theory_rank(level) if level else None,
        duration_months=body.duration_months,
        version=1,
    )
    return to_read(row)
