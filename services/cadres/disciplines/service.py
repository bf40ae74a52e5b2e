"""Disciplinary measures: recorded by personnel in scope; each takes the cadre out of every plan entry
(``planning.discipline_removes``) and bars planning and higher appointments for a while (the checks read the
``disciplines`` table)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.disciplines import repository as repo
from services.cadres.disciplines.schemas import DisciplineCreate
from services.cadres.planning import service as planning
from shared.auth import Principal, require_role
from shared.problems import NotFound
from shared.rulebook import Rulebook

WRITE_ROLES = ("personnel",)


def to_read(row: RowMapping, plans_removed: int | None = None) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "cadre_id": str(row["cadre_id"]), "measure": row["measure"],
        "decided_on": row["decided_on"].isoformat(), "decision_no": row["decision_no"],
        "recorded_at": row["recorded_at"], "recorded_by": row["recorded_by"], "plans_removed": plans_removed,
    }  # fmt: skip


async def record(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    cadre_id: uuid.UUID,
    body: DisciplineCreate,
) -> dict[str, Any]:
    await planning.visible_cadre(session, principal, cadre_id)
    require_role(principal, *WRITE_ROLES, action="record disciplinary measures")
    discipline_id = uuid.uuid4()
    await repo.insert_discipline(
        session,
        id=discipline_id,
        cadre_id=cadre_id,
        measure=body.measure.value,
        decided_on=body.decided_on,
        decision_no=body.decision_no.strip(),
        recorded_by=principal.sub,
    )
    removed = await planning.remove_for_discipline(
        session,
        rulebook,
        cadre_id=cadre_id,
        measure=body.measure.value,
        decided_on=body.decided_on,
        decision_no=body.decision_no.strip(),
    )
    row = await repo.get(session, discipline_id)
    assert row is not None
    return to_read(row, removed)


async def of_cadre(
    session: AsyncSession,
    principal: Principal,
    cadre_id: uuid.UUID,
    *,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    await planning.visible_cadre(session, principal, cadre_id)
    return await repo.of_cadre(session, cadre_id, after=after, limit=limit)


async def one(
    session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, discipline_id: uuid.UUID
) -> RowMapping:
    await planning.visible_cadre(session, principal, cadre_id)
    row = await repo.get(session, discipline_id)
    if row is None or row["cadre_id"] != cadre_id:
        raise NotFound("discipline", f"No disciplinary measure {discipline_id} of this cadre.")
    return row
