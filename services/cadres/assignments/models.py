"""Assignments: who holds which post from when to when. Ended, never deleted; renewals are new rows."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_post_dates", "post_id", "starts_on"),
        Index("ix_assignments_cadre_dates", "cadre_id", "starts_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # the kind of the action that started it
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)  # set when ended (or planned, for rotations)
    term_ends_on: Mapped[dt.date | None] = mapped_column(Date)  # appointments: the term's last day
    started_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the personnel action
    ended_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the events' sequence: 1 started, +1 per end
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
