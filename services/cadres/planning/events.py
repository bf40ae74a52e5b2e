"""The ``cadres.plan.*`` events (v1): a plan entry is the aggregate (added: sequence 1, removed: 2)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event


async def _plan_event(
    session: AsyncSession,
    change: str,
    sequence: int,
    *,
    plan_id: uuid.UUID,
    cadre_id: uuid.UUID,
    post_id: uuid.UUID,
    term: str,
    on: dt.date,
    reason: str | None,
) -> None:
    await record_event(
        session,
        service="cadres",
        type=f"cadres.plan.{change}.v1",
        subject=str(plan_id),
        sequence=sequence,
        data={
            "id": str(plan_id),
            "cadre_id": str(cadre_id),
            "post_id": str(post_id),
            "term": term,
            "on": on.isoformat(),
            "reason": reason,
        },
    )


async def added(
    session: AsyncSession,
    *,
    plan_id: uuid.UUID,
    cadre_id: uuid.UUID,
    post_id: uuid.UUID,
    term: str,
    on: dt.date,
    reason: str | None,
) -> None:
    """``reason``: the acknowledgement's reason when the entry was added despite findings, else null."""
    await _plan_event(
        session,
        "added",
        1,
        plan_id=plan_id,
        cadre_id=cadre_id,
        post_id=post_id,
        term=term,
        on=on,
        reason=reason,
    )


async def removed(
    session: AsyncSession,
    *,
    plan_id: uuid.UUID,
    cadre_id: uuid.UUID,
    post_id: uuid.UUID,
    term: str,
    on: dt.date,
    reason: str,
) -> None:
    await _plan_event(
        session,
        "removed",
        2,
        plan_id=plan_id,
        cadre_id=cadre_id,
        post_id=post_id,
        term=term,
        on=on,
        reason=reason,
    )
