"""Projections of cadres' aggregates, applied by the durable consumer ``training__cadres``.

Each row holds the latest state training needs of one aggregate; ``sequence`` is the last applied version, so
a stale or repeated event changes nothing. There are no foreign keys between these tables: events of
different aggregates may arrive in any order (an assignment before its cadre), and each row stands alone.
Theory levels are kept with their rank (``services.training.levels``) where queries compare them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.training.db import Base
from shared.tree import PathString

SortString = String(600).with_variant(String(600, collation="C"), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ProjectedCadre(Base):
    """A cadre: what eligibility and training needs read (no sensitive field is ever in an event)."""

    __tablename__ = "cadre_projection"
    __table_args__ = (Index("ix_cadre_projection_sort_key_id", "sort_key", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # the home organization
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    full_name: Mapped[str | None] = mapped_column(String(200))
    sort_key: Mapped[str | None] = mapped_column(SortString)
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    education: Mapped[str | None] = mapped_column(String(16))
    declared_theory_level: Mapped[str | None] = mapped_column(String(16))
    declared_rank: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


UNPLACED = text("org_path IS NULL")


class ProjectedPost(Base):
    """A post with its requirement (``required_rank`` null: no theory requirement).

    ``org_path`` copies the materialized path of its organization from the organization projection, so the
    posts of a subtree are one range scan of ``ix_post_projection_org_path`` (index-only on PostgreSQL). It is
    null while the organization is not in the projection (a post defined before its organization arrived, or
    an organization looked up over HTTP): queries then read the organization's path (``ix_post_projection
    _unplaced``); its ``established`` event fills it in, and ``moved`` rewrites the moved subtree's
    (``services.training.projections.orgs``)."""

    __tablename__ = "post_projection"
    __table_args__ = (
        Index("ix_post_projection_org_category", "org_id", "category"),
        # the posts of a subtree: index-only on PostgreSQL
        Index(
            "ix_post_projection_org_path", "org_path", postgresql_include=["id", "required_rank", "category"]
        ),
        Index("ix_post_projection_unplaced", "org_id", sqlite_where=UNPLACED, postgresql_where=UNPLACED),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    org_path: Mapped[str | None] = mapped_column(PathString)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32))
    seats: Mapped[int] = mapped_column(Integer, default=1)
    required_theory_level: Mapped[str | None] = mapped_column(String(16))
    required_rank: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectedAssignment(Base):
    """A cadre holding a post. ``started`` fills ``starts_on`` and ``ended`` fills ``ends_on``, whichever
    comes first; ``ended_sequence`` keeps the latest end applied (a rotation's planned end may be cut short
    later). In force on a day: ``starts_on <= day`` and (no end or ``ends_on > day``)."""

    __tablename__ = "assignment_projection"
    __table_args__ = (
        # the holders of a subtree's posts: index-only on PostgreSQL
        Index(
            "ix_assignment_projection_post_cover",
            "post_id",
            "starts_on",
            postgresql_include=["ends_on", "cadre_id"],
        ),
        Index("ix_assignment_projection_cadre", "cadre_id", "starts_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    term_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    ended_sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectedPlan(Base):
    """A succession-plan entry: in force on a day from ``added_on`` until ``removed_on`` (exclusive)."""

    __tablename__ = "plan_projection"
    __table_args__ = (
        Index(
            "ix_plan_projection_post_cover",
            "post_id",
            "added_on",
            postgresql_include=["removed_on", "cadre_id"],
        ),
        Index("ix_plan_projection_cadre", "cadre_id", "added_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    term: Mapped[str] = mapped_column(String(9))
    added_on: Mapped[dt.date | None] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
