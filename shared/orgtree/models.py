"""The projection of orgs' organizations: the current tree, with a materialized path for subtree scoping.

It holds the latest recorded state of each organization (not its history: questions "as of a date" about the
tree are orgs' to answer). ``sequence`` is the last applied version of the aggregate, so a stale or repeated
event changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base
from shared.tree import PathString

OrgTreeBase = make_base()
orgtree_metadata = OrgTreeBase.metadata  # in the migrations of every service that keeps the projection


class ProjectedOrganization(OrgTreeBase):  # type: ignore[valid-type,misc]
    __tablename__ = "org_projection"

    node: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(400))
    level: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    tags: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    path: Mapped[str] = mapped_column(PathString, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    established_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
