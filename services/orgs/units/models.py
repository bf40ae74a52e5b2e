"""Storage of residential units over time, in the style of the organization tree.

* ``residential_units`` — identity: the UUID, the aggregate ``version`` (the ETag), when it was established
  and recorded. Never deleted.
* ``residential_unit_states`` — the state over a half-open interval of dates ``[valid_from, valid_to)``:
  name (and its diacritic-free form for search and order), kind, the commune organization it lies in and
  the cell covering it (none: not covered). A change closes the current state and opens a new one.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.orgs.db import Base
from services.orgs.organizations.models import BigId, SearchString, utcnow


class ResidentialUnit(Base):
    __tablename__ = "residential_units"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1)
    established_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))


class ResidentialUnitState(Base):
    __tablename__ = "residential_unit_states"
    __table_args__ = (
        Index("ix_residential_unit_states_unit_valid", "unit_id", "valid_from"),
        Index("ix_residential_unit_states_commune_valid", "commune_node", "valid_from"),
        Index("ix_residential_unit_states_covering", "covering_node"),
        Index("ix_residential_unit_states_name", "name_search", "unit_id"),
        Index(
            "ix_residential_unit_states_current",
            "unit_id",
            postgresql_where=text("valid_to IS NULL"),
            sqlite_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residential_units.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(400))
    name_search: Mapped[str] = mapped_column(SearchString)
    kind: Mapped[str] = mapped_column(String(16))
    commune_node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    covering_node: Mapped[int | None] = mapped_column(ForeignKey("organizations.node"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
