"""Cadres, their recorded changes (never overwritten) and the audit of reads of their sensitive data."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base

SortString = String(600).with_variant(String(600, collation="C"), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Cadre(Base):
    __tablename__ = "cadres"
    __table_args__ = (Index("ix_cadres_sort_key_id", "sort_key", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    full_name: Mapped[str] = mapped_column(String(200))
    name_search: Mapped[str] = mapped_column(SortString)
    sort_key: Mapped[str] = mapped_column(SortString)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(8))
    national_id: Mapped[str | None] = mapped_column(String(12))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    education: Mapped[str] = mapped_column(String(16))
    declared_theory_level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CadreChange(Base):
    __tablename__ = "cadre_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))


class SensitiveRead(Base):
    """Append-only: who read which sensitive fields of which cadre, when, in which request."""

    __tablename__ = "sensitive_reads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sub: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))
