"""The ``training.enrollment.*`` events (v1): ids and dates only, nothing personal.

The enrollment is the aggregate: ``created`` has sequence 1, its one closing event (completed, failed or
withdrawn) sequence 2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event


async def created(session: AsyncSession, enrollment: dict[str, Any]) -> None:
    await record_event(
        session,
        service="training",
        type="training.enrollment.created.v1",
        subject=str(enrollment["id"]),
        sequence=1,
        data={
            "id": str(enrollment["id"]),
            "course_id": str(enrollment["course_id"]),
            "cadre_id": str(enrollment["cadre_id"]),
            "sent_by_org_id": str(enrollment["sent_by_org_id"]),
            "sent_on": enrollment["sent_on"].isoformat(),
        },
    )


async def closed(session: AsyncSession, change: str, enrollment: Any, *, on: dt.date, sequence: int) -> None:
    """``change``: completed, failed or withdrawn."""
    await record_event(
        session,
        service="training",
        type=f"training.enrollment.{change}.v1",
        subject=str(enrollment["id"]),
        sequence=sequence,
        data={
            "id": str(enrollment["id"]),
            "course_id": str(enrollment["course_id"]),
            "cadre_id": str(enrollment["cadre_id"]),
            "on": on.isoformat(),
        },
    )
