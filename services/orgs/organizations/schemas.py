"""Request and response models of the organization endpoints (``FooCreate`` / ``FooUpdate`` / ``FooRead``)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Level(StrEnum):
    province = "province"
    upper_grassroots = "upper_grassroots"
    grassroots_committee = "grassroots_committee"
    grassroots_cell = "grassroots_cell"
    sub_committee = "sub_committee"
    cell = "cell"


class Kind(StrEnum):
    commune = "commune"
    ward = "ward"
    special_zone = "special_zone"
    agency = "agency"
    public_service_unit = "public_service_unit"
    state_enterprise = "state_enterprise"
    private_enterprise = "private_enterprise"
    fdi_enterprise = "fdi_enterprise"
    cooperative = "cooperative"
    military = "military"
    police = "police"
    residential = "residential"
    school = "school"
    other = "other"


class Tag(StrEnum):
    religious_area = "religious_area"
    ethnic_minority_area = "ethnic_minority_area"
    difficult_area = "difficult_area"
    border_area = "border_area"


class Status(StrEnum):
    active = "active"
    dissolved = "dissolved"
    merged = "merged"


class StatusFilter(StrEnum):
    active = "active"
    dissolved = "dissolved"
    merged = "merged"
    all = "all"


class Strict(BaseModel):
    """Unknown fields are refused: a client cannot set what it may not (mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class Decision(Strict):
    decision_no: str | None = Field(default=None, max_length=100, examples=["125-QĐ/TU"])
    decided_on: dt.date | None = None


class OrganizationCreate(Decision):
    code: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["NA.X.HUNG-NGUYEN"]
    )
    name: str = Field(min_length=1, max_length=400)
    level: Level
    kind: Kind
    parent_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default_factory=list)
    established_on: dt.date

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class OrganizationUpdate(Decision):
    name: str | None = Field(default=None, min_length=1, max_length=400)
    kind: Kind | None = None
    tags: list[Tag] | None = None
    level: Level | None = None
    effective_on: dt.date

    @model_validator(mode="after")
    def _something_changes(self) -> OrganizationUpdate:
        if self.name is None and self.kind is None and self.tags is None and self.level is None:
            raise ValueError("name, kind, tags or level must be given")
        return self


class OrganizationMove(Decision):
    parent_id: uuid.UUID
    effective_on: dt.date


class OrganizationMerge(Decision):
    source_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    target_id: uuid.UUID | None = None
    target: OrganizationCreate | None = Field(
        default=None, description="a new organization to merge into (its established_on is the merge date)"
    )
    effective_on: dt.date

    @model_validator(mode="after")
    def _one_target(self) -> OrganizationMerge:
        if (self.target_id is None) == (self.target is None):
            raise ValueError("give exactly one of target_id or target")
        if len(set(self.source_ids)) != len(self.source_ids):
            raise ValueError("source_ids must be distinct")
        return self


class OrganizationDissolve(Decision):
    effective_on: dt.date
    reason: str | None = Field(default=None, max_length=1000)
    transfer_to: uuid.UUID | None = Field(
        default=None, description="where the active children and members go on that date"
    )


class OrganizationRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    level: Level
    kind: Kind
    tags: list[Tag]
    parent_id: uuid.UUID | None
    path: list[uuid.UUID] = Field(description="ids from the root down to this organization")
    status: Status
    established_on: dt.date
    dissolved_on: dt.date | None = Field(
        description="the date it ended (dissolved or merged), if on or before as_of"
    )
    merged_into_id: uuid.UUID | None = None
    decision_no: str | None = Field(description="the establishment decision")
    decided_on: dt.date | None
    state_since: dt.date = Field(description="the date since which this state (as of as_of) holds")
    version: int = Field(description="the aggregate's version; also the ETag")


class OrganizationTree(OrganizationRead):
    children: list[OrganizationTree] = Field(default_factory=list)


class OrganizationPage(BaseModel):
    items: list[OrganizationRead]
    next_cursor: str | None = None


class AncestorList(BaseModel):
    items: list[OrganizationRead]


class ChangeRead(BaseModel):
    sequence: int
    change: str
    effective_on: dt.date
    recorded_at: dt.datetime
    decision_no: str | None
    decided_on: dt.date | None
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryRead(BaseModel):
    id: uuid.UUID
    items: list[ChangeRead]
