"""The ``cadres.cadre.*`` events (v1). No sensitive data: never the national id."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event


async def registered(
    session: AsyncSession,
    *,
    cadre_id: uuid.UUID,
    sequence: int,
    org_id: uuid.UUID,
    member_id: uuid.UUID | None,
    full_name: str,
    gender: str,
    birth_date: dt.date,
    education: str,
    declared_theory_level: str,
) -> None:
    await record_event(
        session,
        service="cadres",
        type="cadres.cadre.registered.v1",
        subject=str(cadre_id),
        sequence=sequence,
        data={
            "id": str(cadre_id),
            "org_id": str(org_id),
            "member_id": str(member_id) if member_id else None,
            "full_name": full_name,
            "gender": gender,
            "birth_date": birth_date.isoformat(),
            "education": education,
            "declared_theory_level": declared_theory_level,
        },
    )


async def updated(
    session: AsyncSession, *, cadre_id: uuid.UUID, sequence: int, changes: dict[str, Any]
) -> None:
    public = {k: v for k, v in changes.items() if k != "national_id"}
    if public:
        await record_event(
            session,
            service="cadres",
            type="cadres.cadre.updated.v1",
            subject=str(cadre_id),
            sequence=sequence,
            data={"id": str(cadre_id), "changes": public},
        )
