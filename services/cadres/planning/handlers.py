"""Apply ``training.qualification.attained.v1`` (durable consumer ``cadres__training``).

Each attained level is kept as one row (keyed by the event id), so the attained level of a cadre on a day is
the highest of the declared level and the rows attained by then — whatever order the events arrive in.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres.schemas import TheoryLevel
from services.cadres.planning import repository as repo
from shared.cloudevents import CloudEvent

log = logging.getLogger("tochuc.cadres.planning")

QUALIFICATION_EVENTS = "tochuc.training.qualification.attained.v1"
ATTAINED_TYPE = "vn.tochuc.training.qualification.attained.v1"


async def apply_qualification_event(session: AsyncSession, event: CloudEvent) -> None:
    if event.type != ATTAINED_TYPE:
        log.info("ignoring %s", event.type)
        return
    data = event.data or {}
    # A malformed event raises: it is retried, then dead-lettered where operators see it.
    await repo.insert_attained(
        session,
        event_id=event.id,
        cadre_id=uuid.UUID(str(data["cadre_id"])),
        theory_level=TheoryLevel(data["theory_level"]).value,
        attained_on=dt.date.fromisoformat(data["attained_on"]),
    )
