"""The register of directive documents: one row per document, never changed once registered.

A number is unique per issuer (``189-KL/TU`` once for the Provincial Committee); documents registered without
an issuer share one namespace. Two partial unique indexes say so on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.orgs.db import Base
from services.orgs.organizations.models import utcnow


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index(
            "uq_documents_issuer_number",
            "issuer_node",
            "number",
            unique=True,
            postgresql_where=text("issuer_node IS NOT NULL"),
            sqlite_where=text("issuer_node IS NOT NULL"),
        ),
        Index(
            "uq_documents_number_without_issuer",
            "number",
            unique=True,
            postgresql_where=text("issuer_node IS NULL"),
            sqlite_where=text("issuer_node IS NULL"),
        ),
        # The list's order and the period filter of the sector report.
        Index("ix_documents_issued", "issued_on", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(1000))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    issuer_node: Mapped[int | None] = mapped_column(ForeignKey("organizations.node"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
