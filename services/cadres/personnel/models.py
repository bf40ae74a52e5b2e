"""Personnel actions: one row per recorded decision, never changed; the findings it was recorded with."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PersonnelAction(Base):
    __tablename__ = "personnel_actions"
    __table_args__ = (
        Index("ix_personnel_actions_decided_on_id", "decided_on", "id"),
        Index("ix_personnel_actions_cadre_decided_on", "cadre_id", "decided_on"),
        # The sector report reads a period of decisions from the index alone (PostgreSQL; a plain index on
        # SQLite, which has no INCLUDE).
        Index(
            "ix_personnel_actions_decided_cover",
            "decided_on",
            postgresql_include=["kind", "cadre_id", "post_id", "to_org_id", "from_org_id"],
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    from_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    to_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision_no: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)  # rotations and secondments
    note: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # as checked when recorded
    findings_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledgement_reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
