"""Storage of the organization tree over time.

Three tables (see docs/adr/0001-tree-storage.md):

* ``organizations`` — identity: the UUID, a compact integer ``node`` used in paths, the code, the aggregate
  ``version`` and the establishment decision. Never deleted.
* ``organization_versions`` — the state of one organization over a half-open interval of dates
  ``[valid_from, valid_to)``: name, level, kind, tags, status, parent and the **materialized path** of
  nodes from the root (``/1/2s/9x/``, base 36). The subtree of X on day D is one range scan:
  ``path >= X.path AND path < X.path[:-1] || '0'`` with the interval containing D. A move closes the current
  versions of the subtree and inserts new ones with the rewritten prefix, set-based.
* ``organization_changes`` — the history as recorded: what changed, effective when, recorded when, the
  decision, before and after. Never rewritten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.orgs.db import Base
from shared.tree import PathString

# Byte-wise ordering of paths ("/" < "0"-"9" < "a"-"z") on every backend.
SearchString = String(400).with_variant(String(400, collation="C"), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Organization(Base):
    __tablename__ = "organizations"
    # The sector report's organizations established in a period (migration 0006).
    __table_args__ = (Index("ix_organizations_established_on", "established_on"),)

    node: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    established_on: Mapped[dt.date] = mapped_column(Date)
    decision_no: Mapped[str | None] = mapped_column(String(100))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OrganizationVersion(Base):
    __tablename__ = "organization_versions"
    __table_args__ = (
        Index("ix_organization_versions_path_valid", "path", "valid_from"),
        Index("ix_organization_versions_node_valid", "node", "valid_from"),
        Index(
            "ix_organization_versions_current",
            "node",
            postgresql_where=text("valid_to IS NULL"),
            sqlite_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    parent_node: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(PathString)
    depth: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(400))
    name_search: Mapped[str] = mapped_column(SearchString)
    level: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    tags: Mapped[str] = mapped_column(String(200), default="")  # "|tag|tag|" so a tag filter is a LIKE
    status: Mapped[str] = mapped_column(String(16), default="active")
    merged_into_node: Mapped[int | None] = mapped_column(Integer)


class OrganizationChange(Base):
    __tablename__ = "organization_changes"
    __table_args__ = (
        Index("ix_organization_changes_node_seq", "node", "sequence"),
        # The sector report's dissolutions and merges in a period (migration 0006).
        Index("ix_organization_changes_change_effective", "change", "effective_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    sequence: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(32))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decision_no: Mapped[str | None] = mapped_column(String(100))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(1000))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
