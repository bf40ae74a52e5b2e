"""The ``orgs.member.*`` events (v1), written to the outbox in the same transaction as the change.

Their ``data`` is the public contract of docs/asyncapi.yaml; never break it — add a v2 instead. People appear
by id with the basic fields a consumer needs: never national id, ethnicity or religion.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event

SERVICE = "orgs"


async def _emit(
    session: AsyncSession, name: str, member_id: uuid.UUID, sequence: int, data: dict[str, Any]
) -> None:
    await record_event(
        session,
        service=SERVICE,
        type=f"orgs.member.{name}.v1",
        subject=str(member_id),
        sequence=sequence,
        data=data,
    )


async def admitted(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    sequence: int,
    org_id: uuid.UUID,
    full_name: str,
    gender: str,
    birth_date: dt.date,
    admitted_on: dt.date,
) -> None:
    await _emit(
        session,
        "admitted",
        member_id,
        sequence,
        {
            "id": str(member_id),
            "org_id": str(org_id),
            "full_name": full_name,
            "gender": gender,
            "birth_date": birth_date.isoformat(),
            "admitted_on": admitted_on.isoformat(),
        },
    )


async def recognized(
    session: AsyncSession, *, member_id: uuid.UUID, sequence: int, org_id: uuid.UUID, recognized_on: dt.date
) -> None:
    await _emit(
        session,
        "recognized",
        member_id,
        sequence,
        {"id": str(member_id), "org_id": str(org_id), "recognized_on": recognized_on.isoformat()},
    )


async def transferred(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    sequence: int,
    from_org_id: uuid.UUID,
    to_org_id: uuid.UUID,
    kind: str,
    effective_on: dt.date,
    until: dt.date | None,
) -> None:
    await _emit(
        session,
        "transferred",
        member_id,
        sequence,
        {
            "id": str(member_id),
            "from_org_id": str(from_org_id),
            "to_org_id": str(to_org_id),
            "kind": kind,
            "effective_on": effective_on.isoformat(),
            "until": until.isoformat() if until else None,
        },
    )


async def exempted(
    session: AsyncSession, *, member_id: uuid.UUID, sequence: int, effective_on: dt.date
) -> None:
    await _emit(
        session,
        "exempted",
        member_id,
        sequence,
        {"id": str(member_id), "effective_on": effective_on.isoformat()},
    )


async def departed(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    sequence: int,
    org_id: uuid.UUID,
    reason: str,
    effective_on: dt.date,
) -> None:
    await _emit(
        session,
        "departed",
        member_id,
        sequence,
        {
            "id": str(member_id),
            "org_id": str(org_id),
            "reason": reason,
            "effective_on": effective_on.isoformat(),
        },
    )


async def rated(
    session: AsyncSession, *, member_id: uuid.UUID, sequence: int, year: int, rating: str
) -> None:
    await _emit(session, "rated", member_id, sequence, {"id": str(member_id), "year": year, "rating": rating})
