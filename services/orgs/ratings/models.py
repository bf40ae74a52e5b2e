"""Annual ratings of organizations, append-only.

``organization_ratings`` keeps every rating as recorded: a correction is a new row, and the latest recorded
row of an (organization, year) is the rating in force. Nothing is updated or deleted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.orgs.db import Base
from services.orgs.organizations.models import BigId, utcnow


class OrganizationRating(Base):
    __tablename__ = "organization_ratings"
    # "The latest of (org, year)" and "every rating of a year" are both range scans of this index.
    __table_args__ = (Index("ix_organization_ratings_org_year", "org_node", "year", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    year: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
