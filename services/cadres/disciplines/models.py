"""Disciplinary measures decided on a cadre (append-only; a measure is never edited)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Discipline(Base):
    __tablename__ = "disciplines"
    __table_args__ = (Index("ix_disciplines_cadre_decided", "cadre_id", "decided_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    measure: Mapped[str] = mapped_column(String(32))  # reprimand | warning | removal_from_post
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decision_no: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
