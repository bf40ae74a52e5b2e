"""A cadre's attained political theory level.

The attained level on a day is the highest of the declared level (held before the system) and the theory
levels of the political theory courses completed by that day (``completed_on <= as_of``). When a completion
raises it above what the cadre had attained by the completion date, ``training.qualification.attained.v1``
``{cadre_id, theory_level, attained_on}`` is recorded (cadres uses it for the readiness of planned cadres).
A completion recorded late, below a level already attained, records nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.levels import theory_name
from services.training.projections.directory import visible_cadre
from services.training.qualifications import repository as repo
from shared.auth import Principal
from shared.orgtree.scope import scope_path
from shared.outbox import record_event
from shared.problems import NotFound


async def attained_rank(session: AsyncSession, cadre: RowMapping, as_of: dt.date) -> int:
    return max(int(cadre["declared_rank"] or 0), await repo.course_rank(session, cadre["id"], as_of))


async def record_if_raised(
    session: AsyncSession, cadre: RowMapping, *, rank: int, before: int, completed_on: dt.date
) -> None:
    """Record the attained event when ``rank`` (just completed) is above ``before`` (attained by then)."""
    if rank <= before:
        return
    cadre_id: uuid.UUID = cadre["id"]
    await record_event(
        session,
        service="training",
        type="training.qualification.attained.v1",
        subject=str(cadre_id),
        sequence=await repo.next_version(session, cadre_id),
        data={
            "cadre_id": str(cadre_id),
            "theory_level": theory_name(rank),
            "attained_on": completed_on.isoformat(),
        },
    )


async def qualifications(
    session: AsyncSession, request: Request, principal: Principal, cadre_id: uuid.UUID, as_of: dt.date
) -> dict[str, Any]:
    scope = await scope_path(session, principal)
    cadre = await visible_cadre(session, request, principal, cadre_id, scope=scope)
    if cadre is None:
        raise NotFound("cadre", f"No cadre {cadre_id}.")
    history: list[dict[str, Any]] = []
    if cadre["declared_rank"]:
        history.append(
            {
                "theory_level": cadre["declared_theory_level"],
                "attained_on": None,
                "source": "declared",
                "course_id": None,
                "enrollment_id": None,
                "certificate_no": None,
            }
        )
    completed = await repo.completions(session, cadre_id, as_of)
    for row in completed:
        history.append(
            {
                "theory_level": row["theory_level"],
                "attained_on": row["completed_on"].isoformat(),
                "source": "course",
                "course_id": str(row["course_id"]),
                "enrollment_id": str(row["id"]),
                "certificate_no": row["certificate_no"],
            }
        )
    return {
        "cadre_id": str(cadre_id),
        "as_of": as_of.isoformat(),
        # attained_rank's look-up, from the completions already read
        "attained_theory_level": theory_name(
            max([int(cadre["declared_rank"] or 0), *(int(r["theory_rank"]) for r in completed)])
        ),
        "history": history,
    }
