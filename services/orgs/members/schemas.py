"""Request and response models of the member endpoints (``FooCreate`` / ``FooRead``…).

Lists use :class:`MemberListItem`, which has no sensitive field at all, so a list cannot leak one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator, model_validator

from services.orgs.organizations.schemas import Strict


class Gender(StrEnum):
    male = "male"
    female = "female"


class MemberStatus(StrEnum):
    probationary = "probationary"
    official = "official"
    exempt = "exempt"
    left = "left"


class MemberStatusFilter(StrEnum):
    probationary = "probationary"
    official = "official"
    exempt = "exempt"
    left = "left"
    all = "all"


class LeftReason(StrEnum):
    removed = "removed"
    expelled = "expelled"
    deceased = "deceased"
    withdrawn = "withdrawn"


class TransferKind(StrEnum):
    official = "official"
    temporary = "temporary"


class Rating(StrEnum):
    excellent = "excellent"
    good = "good"
    completed = "completed"
    failed = "failed"


SENSITIVE_FIELDS = ("national_id", "ethnicity", "religion")


class MemberCreate(Strict):
    full_name: str = Field(min_length=1, max_length=200, examples=["Nguyễn Thị Lan"])
    birth_date: dt.date
    gender: Gender
    org_id: uuid.UUID = Field(description="the cell or grassroots cell admitting the member")
    admitted_on: dt.date
    ethnicity: str | None = Field(default=None, max_length=100, description="sensitive")
    religion: str | None = Field(default=None, max_length=100, description="sensitive")
    national_id: str | None = Field(
        default=None, pattern=r"^\d{12}$", description="the 12-digit citizen identity number; sensitive"
    )
    member_no: str | None = Field(
        default=None, pattern=r"^\d{6}[A-Z]{1,3}$", description="background number", examples=["012345NA"]
    )
    residence_unit_id: uuid.UUID | None = Field(
        default=None, description="the residential unit where the member lives (not checked yet)"
    )
    decision_no: str | None = Field(default=None, max_length=100, examples=["125-QĐ/ĐU"])

    @field_validator("full_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return " ".join(value.split())


class MemberRecognize(Strict):
    recognized_on: dt.date
    decision_no: str | None = Field(default=None, max_length=100)
    card_no: str | None = Field(default=None, min_length=1, max_length=32, description="Party card number")


class MemberTransfer(Strict):
    to_org_id: uuid.UUID
    kind: TransferKind
    effective_on: dt.date
    until: dt.date | None = Field(default=None, description="end of a temporary transfer (exclusive)")
    decision_no: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _until_for_temporary_only(self) -> MemberTransfer:
        if self.kind is TransferKind.temporary and self.until is None:
            raise ValueError("a temporary transfer needs until")
        if self.kind is TransferKind.official and self.until is not None:
            raise ValueError("an official transfer has no until")
        if self.until is not None and self.until <= self.effective_on:
            raise ValueError("until must be after effective_on")
        return self


class MemberExempt(Strict):
    effective_on: dt.date
    reason: str = Field(min_length=1, max_length=1000, examples=["tuổi cao, sức yếu"])
    decision_no: str | None = Field(default=None, max_length=100)


class MemberDepart(Strict):
    reason: LeftReason
    effective_on: dt.date
    decision_no: str | None = Field(default=None, max_length=100)


class RatingSet(Strict):
    rating: Rating


class RatingRead(BaseModel):
    member_id: uuid.UUID
    year: int
    rating: Rating
    recorded_at: dt.datetime
    version: int = Field(description="the member's version after this rating; also the ETag")


class TemporaryActivityRead(BaseModel):
    org_id: uuid.UUID = Field(description="the host organization")
    starts_on: dt.date
    until: dt.date


class MemberListItem(BaseModel):
    id: uuid.UUID
    member_no: str | None
    full_name: str
    birth_date: dt.date
    gender: Gender
    org_id: uuid.UUID = Field(description="the home organization (cell or grassroots cell) as of as_of")
    residence_unit_id: uuid.UUID | None
    status: MemberStatus
    left_reason: LeftReason | None
    admitted_on: dt.date
    recognized_on: dt.date | None
    card_no: str | None
    temporary: TemporaryActivityRead | None = Field(
        description="temporary Party activity elsewhere on as_of (the member stays counted at home)"
    )
    state_since: dt.date = Field(description="the date since which this state (as of as_of) holds")
    version: int


class MemberRead(MemberListItem):
    decision_no: str | None = Field(description="the admission decision")
    national_id: str | None = Field(description="sensitive: null unless your role may read it")
    ethnicity: str | None = Field(description="sensitive: null unless your role may read it")
    religion: str | None = Field(description="sensitive: null unless your role may read it")
    sensitive_omitted: bool = Field(description="true when your role may not read the sensitive fields")


class MemberPage(BaseModel):
    items: list[MemberListItem]
    next_cursor: str | None = None
