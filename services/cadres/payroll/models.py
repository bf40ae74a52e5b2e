"""Payroll entries: append-only; the latest entry of an (organization, year, category) is the one in force."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PayrollEntry(Base):
    __tablename__ = "payroll_entries"
    __table_args__ = (Index("ix_payroll_entries_org_year_category", "org_id", "year", "category", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)  # later = larger
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))  # civil_servant | public_employee
    allocated: Mapped[int] = mapped_column(Integer)
    actual: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
