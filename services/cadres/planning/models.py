"""Plan entries: a cadre planned for a post for a term, from ``added_on`` to ``removed_on`` (never deleted).

``attained_levels`` keeps the political theory levels that training reports (``training.qualification
.attained.v1``), for the readiness of planned cadres.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_post_term", "post_id", "term"),
        Index("ix_plans_cadre_term", "cadre_id", "term"),
        Index("ix_plans_term_added", "term", "added_on", "id"),
        # One entry not yet removed per cadre, post and term, even under concurrent requests.
        Index(
            "uq_plans_not_removed",
            "cadre_id",
            "post_id",
            "term",
            unique=True,
            sqlite_where=text("removed_on IS NULL"),
            postgresql_where=text("removed_on IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    term: Mapped[str] = mapped_column(String(9))  # "2025-2030"
    added_on: Mapped[dt.date] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(1000))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # as checked when added
    acknowledged_reason: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))


class AttainedLevel(Base):
    """A political theory level a cadre attained, as training reported it (one row per event)."""

    __tablename__ = "attained_levels"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    theory_level: Mapped[str] = mapped_column(String(16))
    attained_on: Mapped[dt.date] = mapped_column(Date)
