"""The ``orgs.organization.rated`` event (v1), written to the outbox in the same transaction as the rating.

Its ``data`` is the public contract of docs/asyncapi.yaml; never break it — add a v2 instead.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import record_event

SERVICE = "orgs"


async def rated(session: AsyncSession, *, org_id: uuid.UUID, sequence: int, year: int, rating: str) -> None:
    """``sequence`` is the organization's version after the rating: a rating changes the organization."""
    await record_event(
        session,
        service=SERVICE,
        type="orgs.organization.rated.v1",
        subject=str(org_id),
        sequence=sequence,
        data={"id": str(org_id), "year": year, "rating": rating},
    )
