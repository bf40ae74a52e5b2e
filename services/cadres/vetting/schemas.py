"""Request and response models of vetting records."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class VettingRecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=200, description="what was vetted (e.g. political history)")
    summary: str = Field(min_length=1, max_length=20000)
    conclusion: str | None = Field(default=None, max_length=20000)
    concluded_on: dt.date | None = None


class VettingRecordWritten(BaseModel):
    """The answer to a write: the record's id, and none of its content.

    The content is not echoed so that no copy of it is kept in clear anywhere (an ``Idempotency-Key``
    stores the answer of a POST in the database).
    """

    id: uuid.UUID
    cadre_id: uuid.UUID
    recorded_at: dt.datetime
    recorded_by: str | None


class VettingRecordRead(BaseModel):
    id: uuid.UUID
    cadre_id: uuid.UUID
    kind: str
    summary: str
    conclusion: str | None
    concluded_on: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str | None


class VettingRecordList(BaseModel):
    items: list[VettingRecordRead]
    next_cursor: str | None = None
