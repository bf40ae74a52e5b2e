"""Training plans: one target per year, organization and programme (upserted; ``version`` for If-Match)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.training.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TrainingPlan(Base):
    __tablename__ = "training_plans"
    __table_args__ = (Index("ix_training_plans_org_year", "org_id", "year"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("programmes.id"), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
