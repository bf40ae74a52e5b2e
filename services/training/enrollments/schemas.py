"""Request and response models of enrollments."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.training.levels import TheoryLevel
from services.training.programmes.schemas import ProgrammeKind
from shared.rulebook import Finding


class Status(StrEnum):
    enrolled = "enrolled"
    completed = "completed"
    failed = "failed"
    withdrawn = "withdrawn"


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="why the cadre is sent despite them")


class EnrollmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_id: uuid.UUID
    cadre_id: uuid.UUID
    sent_by_org_id: uuid.UUID = Field(description="the organization that sends the cadre")
    sent_on: dt.date
    acknowledged_findings: Acknowledgement | None = None


class Result(StrEnum):
    completed = "completed"
    failed = "failed"


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completed_on: dt.date
    result: Result
    certificate_no: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _certificate_for_completion(self) -> Completion:
        if self.result is Result.failed and self.certificate_no is not None:
            raise ValueError("a failed enrollment has no certificate")
        return self


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    withdrawn_on: dt.date
    reason: str = Field(min_length=1, max_length=1000)


class EnrollmentRead(BaseModel):
    id: uuid.UUID
    course_id: uuid.UUID
    cadre_id: uuid.UUID
    sent_by_org_id: uuid.UUID
    sent_on: dt.date
    status: Status
    completed_on: dt.date | None = Field(description="the day of the completion or the failure")
    certificate_no: str | None
    withdrawn_on: dt.date | None
    withdrawal_reason: str | None
    programme_id: uuid.UUID
    programme_kind: ProgrammeKind
    theory_level: TheoryLevel | None
    findings: list[Finding] = Field(description="the rulebook's findings when it was created")
    findings_acknowledged: bool = Field(description="created despite error findings, with a reason")
    acknowledgement_reason: str | None
    version: int
    recorded_at: dt.datetime


class EnrollmentResult(BaseModel):
    enrollment: EnrollmentRead | None = Field(description="the enrollment; null for a :check")
    findings: list[Finding]


class EnrollmentPage(BaseModel):
    items: list[EnrollmentRead]
    next_cursor: str | None = None
