"""Request and response models of courses."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.training.levels import TheoryLevel
from services.training.programmes.schemas import ProgrammeKind


class Mode(StrEnum):
    full_time = "full_time"
    in_service = "in_service"


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    programme_id: uuid.UUID
    code: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    name: str = Field(min_length=1, max_length=300)
    provider: str = Field(min_length=1, max_length=300, description="e.g. the provincial political school")
    mode: Mode
    starts_on: dt.date
    ends_on: dt.date
    capacity: int = Field(ge=1, le=10000)
    target_group: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _coherent(self) -> CourseCreate:
        self.name, self.provider = " ".join(self.name.split()), " ".join(self.provider.split())
        if not self.name or not self.provider:
            raise ValueError("name and provider must not be blank")
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class CourseRead(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    programme_kind: ProgrammeKind
    theory_level: TheoryLevel | None
    code: str
    name: str
    provider: str
    mode: Mode
    starts_on: dt.date
    ends_on: dt.date
    capacity: int
    enrolled: int = Field(description="seats taken: enrollments not withdrawn")
    target_group: str | None
    version: int


class CoursePage(BaseModel):
    items: list[CourseRead]
    next_cursor: str | None = None
