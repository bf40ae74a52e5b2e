"""Storage of Party members over time.

* ``members`` — identity and personal data: the UUID, the background number, name (with its search and
  Vietnamese sort keys), birth date, gender, the sensitive fields (national id, ethnicity, religion), the
  admission decision and the aggregate ``version``. Never deleted.
* ``member_name_starts`` — search keys of the names of four words or more (``members.search``).
* ``member_states`` — the member's state over a half-open interval of dates ``[valid_from, valid_to)``:
  status, the home organization (``org_node``), residence, recognition and card. "The members of X on D"
  joins the states valid on D to the organization versions valid on D under X's path.
* ``member_temporary_activities`` — temporary Party activity in a host organization ``[starts_on, until)``;
  the member stays counted in the home organization.
* ``member_changes`` — the history as recorded (like ``organization_changes``). Never rewritten.
* ``member_ratings`` — annual ratings, append-only: the latest recorded row of a (member, year) is the rating.
* ``sensitive_reads`` — append-only audit of every answer that carried a sensitive field (Law 91/2025/QH15).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.orgs.db import Base
from services.orgs.organizations.models import BigId, SearchString, utcnow

# Byte-wise order on every backend (see shared.text.vietnamese_sort_key).
SortString = String(600).with_variant(String(600, collation="C"), "postgresql")
# Digits and upper-case letters; byte-wise on PostgreSQL so that a prefix is a range of the unique index.
MemberNoString = String(16).with_variant(String(16, collation="C"), "postgresql")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_admitted_on_org", "admitted_on", "admitted_org_node"),
        # Search (``members.search``): lists walk the sort order; a name's word starts are index ranges.
        Index("ix_members_sort_key", "sort_key", "id", postgresql_include=["name_search", "member_no"]),
        Index("ix_members_name_search", "name_search"),
        Index("ix_members_name_rest", "name_rest"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    member_no: Mapped[str | None] = mapped_column(MemberNoString, unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_search: Mapped[str] = mapped_column(SearchString)
    # ``name_search`` from its second word on (None for a one-word name): the second word start's key.
    name_rest: Mapped[str | None] = mapped_column(SearchString)
    sort_key: Mapped[str] = mapped_column(SortString)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(8))
    national_id: Mapped[str | None] = mapped_column(String(12))
    ethnicity: Mapped[str | None] = mapped_column(String(100))
    religion: Mapped[str | None] = mapped_column(String(100))
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    # The organization that admitted the member (a fact that never changes): the sector report counts
    # admissions by it with one index range scan.
    admitted_org_node: Mapped[int | None] = mapped_column(ForeignKey("organizations.node"))
    decision_no: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MemberNameStart(Base):
    """The normalized name from each of its words 3 … n−1 on (``members.search``): names of four words or
    more only. Written with the member (a name never changes)."""

    __tablename__ = "member_name_starts"

    name_start: Mapped[str] = mapped_column(SearchString, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), primary_key=True)


class MemberState(Base):
    __tablename__ = "member_states"
    __table_args__ = (
        # The sector report's departures and recognitions in a period.
        Index(
            "ix_member_states_left_on",
            "valid_from",
            postgresql_where=text("status = 'left'"),
            sqlite_where=text("status = 'left'"),
        ),
        Index(
            "ix_member_states_recognized_on",
            "recognized_on",
            postgresql_where=text("status = 'official' AND valid_from = recognized_on"),
            sqlite_where=text("status = 'official' AND valid_from = recognized_on"),
        ),
        Index("ix_member_states_org_valid", "org_node", "valid_from"),
        Index("ix_member_states_member_valid", "member_id", "valid_from"),
        Index(
            "ix_member_states_current",
            "member_id",
            postgresql_where=text("valid_to IS NULL"),
            sqlite_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    left_reason: Mapped[str | None] = mapped_column(String(16))
    org_node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    # No foreign key: residential units are another domain's table (validated there, not here).
    residence_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recognized_on: Mapped[dt.date | None] = mapped_column(Date)
    card_no: Mapped[str | None] = mapped_column(String(32))


class _Counts:
    """The count columns of ``member_counts`` and ``member_day_counts`` (``members.counts.COLUMNS``)."""

    probationary: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    official: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    exempt: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    admitted: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    recognized: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    left_removed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    left_expelled: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    left_deceased: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    left_withdrawn: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class MemberCount(_Counts, Base):
    """Members of an organization by status, kept by the same unit of work as ``member_states``.

    One row per organization and day on which its members changed (``members.counts``):

    * ``probationary``, ``official``, ``exempt`` — running totals: the members at home in the organization
      in that status on ``day`` (after that day's changes), until the organization's next row. "Active in X
      on D" is the row of each organization with the greatest ``day`` ≤ D (one index probe per organization).
    * ``admitted``, ``recognized``, ``left_<reason>`` — that day's events in the organization (the admitting
      organization; the organization of the member when recognized or when leaving).
    """

    __tablename__ = "member_counts"

    org_node: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class MemberDayCount(_Counts, Base):
    """The whole system's member changes per day (the whole-country report sums these, ~18k rows).

    ``probationary``, ``official``, ``exempt`` are the day's net changes (not totals: an upsert that adds is
    safe under concurrent writers); the event columns are the day's counts, as in ``member_counts``.
    """

    __tablename__ = "member_day_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class MemberTemporaryActivity(Base):
    __tablename__ = "member_temporary_activities"
    __table_args__ = (
        Index("ix_member_temporary_activities_host", "host_org_node", "starts_on"),
        Index("ix_member_temporary_activities_member", "member_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    host_org_node: Mapped[int] = mapped_column(ForeignKey("organizations.node"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date] = mapped_column(Date)


class MemberChange(Base):
    __tablename__ = "member_changes"
    __table_args__ = (Index("ix_member_changes_member_seq", "member_id", "sequence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(32))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decision_no: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(1000))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))


class MemberRating(Base):
    __tablename__ = "member_ratings"
    __table_args__ = (Index("ix_member_ratings_member_year", "member_id", "year", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))


class SensitiveRead(Base):
    __tablename__ = "sensitive_reads"
    __table_args__ = (Index("ix_sensitive_reads_member_at", "member_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sub: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # No foreign key: the audit outlives anything and must never block (nor be blocked by) member writes.
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    fields: Mapped[list[str]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))
