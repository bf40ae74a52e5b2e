"""Enrollments. The programme's id, kind and theory level are copied from the course at creation (a programme
never changes), so the sector report, the attained levels and the training plans read this one table.

Indexes serve, at national scale (about 1.5 M rows): the sector report over a period (``sent_on``; completions
by ``completed_on``), a subtree of sending organizations (by organization, covering on PostgreSQL), a cadre's
attained level, a course's roster. A partial unique index keeps one open or completed enrollment per cadre and
course, even under concurrency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.training.db import Base

OPEN_OR_COMPLETED = text("status IN ('enrolled', 'completed')")
COMPLETED = text("status = 'completed'")
COMPLETED_THEORY = text("status = 'completed' AND programme_kind = 'political_theory'")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_sent_on", "sent_on", "programme_kind", "theory_level", "cadre_id"),
        # a subtree's sector report: each organization's enrollments, every column it counts (PostgreSQL)
        Index(
            "ix_enrollments_org_sent_cover",
            "sent_by_org_id",
            "sent_on",
            postgresql_include=["cadre_id", "programme_kind", "theory_level", "status", "completed_on"],
        ),
        Index("ix_enrollments_cadre_sent_on", "cadre_id", "sent_on"),
        Index("ix_enrollments_course_status", "course_id", "status"),
        Index(
            "ix_enrollments_completed_on",
            "completed_on",
            "theory_level",
            "cadre_id",
            sqlite_where=COMPLETED,
            postgresql_where=COMPLETED,
        ),
        Index(
            "ix_enrollments_attained",
            "cadre_id",
            "completed_on",
            "theory_rank",
            sqlite_where=COMPLETED_THEORY,
            postgresql_where=COMPLETED_THEORY,
        ),
        Index(
            "uq_enrollments_open_or_completed",
            "course_id",
            "cadre_id",
            unique=True,
            sqlite_where=OPEN_OR_COMPLETED,
            postgresql_where=OPEN_OR_COMPLETED,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    course_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("courses.id"))
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sent_by_org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sent_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="enrolled")
    completed_on: Mapped[dt.date | None] = mapped_column(Date)  # completion or failure
    certificate_no: Mapped[str | None] = mapped_column(String(100))
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawal_reason: Mapped[str | None] = mapped_column(String(1000))
    programme_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    programme_kind: Mapped[str] = mapped_column(String(32))
    theory_level: Mapped[str | None] = mapped_column(String(16))
    theory_rank: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # as checked when created
    findings_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledgement_reason: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
