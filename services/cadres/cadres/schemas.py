"""Request and response models of cadres."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Gender(StrEnum):
    male = "male"
    female = "female"


class Education(StrEnum):
    secondary = "secondary"
    college = "college"
    bachelor = "bachelor"
    master = "master"
    doctor = "doctor"


class TheoryLevel(StrEnum):
    none = "none"
    elementary = "elementary"
    intermediate = "intermediate"
    advanced = "advanced"
    bachelor = "bachelor"


class CadreStatus(StrEnum):
    active = "active"
    retired = "retired"
    left = "left"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CadreCreate(Strict):
    full_name: str = Field(min_length=1, max_length=200)
    birth_date: dt.date
    gender: Gender
    org_id: uuid.UUID = Field(description="the home organization")
    education: Education
    declared_theory_level: TheoryLevel = Field(description="political theory level held before the system")
    national_id: str | None = Field(default=None, pattern=r"^\d{12}$", description="sensitive")
    member_id: uuid.UUID | None = Field(default=None, description="the Party member record, when a member")

    @field_validator("full_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return " ".join(value.split())


class CadreUpdate(Strict):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    education: Education | None = None
    declared_theory_level: TheoryLevel | None = None
    status: CadreStatus | None = None
    org_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    national_id: str | None = Field(default=None, pattern=r"^\d{12}$")

    @model_validator(mode="after")
    def _something(self) -> CadreUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class CadreRead(BaseModel):
    id: uuid.UUID
    full_name: str
    birth_date: dt.date
    gender: Gender
    org_id: uuid.UUID
    org_name: str | None = Field(description="the home organization's current name (from cadres' projection)")
    education: Education
    declared_theory_level: TheoryLevel
    member_id: uuid.UUID | None
    status: CadreStatus
    national_id: str | None = Field(
        default=None, description="only for roles allowed to read it; never in lists"
    )
    version: int


class CadrePage(BaseModel):
    items: list[CadreRead]
    next_cursor: str | None = None
