"""The ``orgs.document.registered`` event (v1), written to the outbox with the registration.

Its ``data`` is the public contract of docs/asyncapi.yaml; never break it — add a v2 instead.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event

SERVICE = "orgs"


async def registered(
    session: AsyncSession,
    *,
    document_id: uuid.UUID,
    number: str,
    kind: str,
    title: str,
    issued_on: dt.date,
) -> None:
    """A registered document never changes: its one event has sequence 1."""
    await record_event(
        session,
        service=SERVICE,
        type="orgs.document.registered.v1",
        subject=str(document_id),
        sequence=1,
        data={
            "id": str(document_id),
            "number": number,
            "kind": kind,
            "title": title,
            "issued_on": issued_on.isoformat(),
        },
    )
