"""The ``cadres.personnel_action.recorded`` and ``cadres.assignment.started/ended`` events (v1)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


async def recorded(session: AsyncSession, action: dict[str, Any]) -> None:
    """An action is never changed: its only event has sequence 1."""
    await record_event(
        session,
        service="cadres",
        type="cadres.personnel_action.recorded.v1",
        subject=str(action["id"]),
        sequence=1,
        data={
            "id": str(action["id"]),
            "kind": action["kind"],
            "cadre_id": str(action["cadre_id"]),
            "post_id": _id(action["post_id"]),
            "from_org_id": _id(action["from_org_id"]),
            "to_org_id": _id(action["to_org_id"]),
            "decision_no": action["decision_no"],
            "decided_on": action["decided_on"].isoformat(),
            "effective_on": action["effective_on"].isoformat(),
            "findings_acknowledged": action["findings_acknowledged"],
        },
    )


async def assignment_started(session: AsyncSession, assignment: dict[str, Any]) -> None:
    await record_event(
        session,
        service="cadres",
        type="cadres.assignment.started.v1",
        subject=str(assignment["id"]),
        sequence=1,
        data={
            "id": str(assignment["id"]),
            "cadre_id": str(assignment["cadre_id"]),
            "post_id": str(assignment["post_id"]),
            "org_id": str(assignment["org_id"]),
            "starts_on": assignment["starts_on"].isoformat(),
            "term_ends_on": _day(assignment["term_ends_on"]),
        },
    )


async def assignment_ended(
    session: AsyncSession, assignment: dict[str, Any], *, ends_on: dt.date, sequence: int
) -> None:
    await record_event(
        session,
        service="cadres",
        type="cadres.assignment.ended.v1",
        subject=str(assignment["id"]),
        sequence=sequence,
        data={
            "id": str(assignment["id"]),
            "cadre_id": str(assignment["cadre_id"]),
            "post_id": str(assignment["post_id"]),
            "org_id": str(assignment["org_id"]),
            "ends_on": ends_on.isoformat(),
            "term_ends_on": _day(assignment["term_ends_on"]),
        },
    )
