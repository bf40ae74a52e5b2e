"""Courses. ``enrolled`` counts the seats taken (enrollments not withdrawn); it only ever changes in one
atomic statement (see ``courses.repository.take_seat``), so the capacity holds under concurrent requests."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.training.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        Index("ix_courses_starts_on", "starts_on", "id"),
        Index("ix_courses_programme_starts_on", "programme_id", "starts_on"),
        CheckConstraint("enrolled >= 0 AND enrolled <= capacity", name="enrolled_within_capacity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    programme_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("programmes.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(300))
    mode: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    enrolled: Mapped[int] = mapped_column(Integer, default=0)
    target_group: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
