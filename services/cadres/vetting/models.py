"""Vetting records (only ciphertext at rest) and the audit of every read and write of them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.cadres.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class VettingRecord(Base):
    __tablename__ = "vetting_records"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # A Fernet token of {"kind", "summary", "conclusion", "concluded_on"}: nothing of the record in clear.
    token: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))


class VettingAudit(Base):
    """Append-only: who read or wrote which vetting record of which cadre, when, in which request."""

    __tablename__ = "vetting_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sub: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(8))  # read | write
    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # none: a read that found no record
    request_id: Mapped[str | None] = mapped_column(String(128))
