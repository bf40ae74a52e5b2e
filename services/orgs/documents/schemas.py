"""Request and response models of the documents register."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DocumentKind(StrEnum):
    resolution = "resolution"
    directive = "directive"
    conclusion = "conclusion"
    regulation = "regulation"
    plan = "plan"
    project = "project"
    report = "report"
    instruction = "instruction"
    decision = "decision"
    other = "other"


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=100, examples=["189-KL/TU"])
    kind: DocumentKind
    title: str = Field(min_length=1, max_length=1000)
    issued_on: dt.date
    issuer_org_id: uuid.UUID | None = Field(default=None, description="the organization that issued it")

    @field_validator("number", "title")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class DocumentRead(BaseModel):
    id: uuid.UUID
    number: str
    kind: DocumentKind
    title: str
    issued_on: dt.date
    issuer_org_id: uuid.UUID | None
    recorded_at: dt.datetime


class DocumentPage(BaseModel):
    items: list[DocumentRead]
    next_cursor: str | None = None
