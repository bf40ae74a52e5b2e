"""The ``orgs.organization.*`` events (v1), written to the outbox in the same transaction as the change.

Their ``data`` is the public contract of docs/asyncapi.yaml; never break it — add a v2 instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event

SERVICE = "orgs"


async def _emit(
    session: AsyncSession, name: str, subject: uuid.UUID, sequence: int, data: dict[str, Any]
) -> None:
    await record_event(
        session,
        service=SERVICE,
        type=f"orgs.organization.{name}.v1",
        subject=str(subject),
        sequence=sequence,
        data=data,
    )


async def established(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    sequence: int,
    code: str,
    name: str,
    level: str,
    kind: str,
    tags: list[str],
    parent_id: uuid.UUID | None,
    established_on: dt.date,
    decision_no: str | None,
) -> None:
    await _emit(
        session,
        "established",
        org_id,
        sequence,
        {
            "id": str(org_id),
            "code": code,
            "name": name,
            "level": level,
            "kind": kind,
            "tags": tags,
            "parent_id": str(parent_id) if parent_id else None,
            "established_on": established_on.isoformat(),
            "decision_no": decision_no,
        },
    )


async def amended(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    sequence: int,
    changes: dict[str, Any],
    effective_on: dt.date,
    decision_no: str | None,
) -> None:
    await _emit(
        session,
        "amended",
        org_id,
        sequence,
        {
            "id": str(org_id),
            "changes": changes,
            "effective_on": effective_on.isoformat(),
            "decision_no": decision_no,
        },
    )


async def moved(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    sequence: int,
    from_parent_id: uuid.UUID | None,
    to_parent_id: uuid.UUID,
    effective_on: dt.date,
    decision_no: str | None,
) -> None:
    await _emit(
        session,
        "moved",
        org_id,
        sequence,
        {
            "id": str(org_id),
            "from_parent_id": str(from_parent_id) if from_parent_id else None,
            "to_parent_id": str(to_parent_id),
            "effective_on": effective_on.isoformat(),
            "decision_no": decision_no,
        },
    )


async def merged(
    session: AsyncSession,
    *,
    target_id: uuid.UUID,
    sequence: int,
    source_ids: list[uuid.UUID],
    effective_on: dt.date,
    decision_no: str | None,
) -> None:
    await _emit(
        session,
        "merged",
        target_id,
        sequence,
        {
            "source_ids": [str(s) for s in source_ids],
            "target_id": str(target_id),
            "effective_on": effective_on.isoformat(),
            "decision_no": decision_no,
        },
    )


async def dissolved(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    sequence: int,
    effective_on: dt.date,
    decision_no: str | None,
    reason: str | None,
) -> None:
    await _emit(
        session,
        "dissolved",
        org_id,
        sequence,
        {
            "id": str(org_id),
            "effective_on": effective_on.isoformat(),
            "decision_no": decision_no,
            "reason": reason,
        },
    )
