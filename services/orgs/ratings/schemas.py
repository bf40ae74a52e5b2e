"""Request and response models of ratings and of the threshold report."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Rating(StrEnum):
    """Annual quality rating (Regulation 366-QĐ/TW, 2025)."""

    excellent = "excellent"
    good = "good"
    completed = "completed"
    failed = "failed"


class RatingSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Rating


class RatingRead(BaseModel):
    org_id: uuid.UUID
    year: int
    rating: Rating
    recorded_at: dt.datetime
    recorded_by: str | None
    version: int = Field(description="the organization's version after the rating (its ETag)")


class RatingList(BaseModel):
    org_id: uuid.UUID
    items: list[RatingRead] = Field(description="the rating in force for each year, latest year first")


class MembersByStatus(BaseModel):
    probationary: int = 0
    official: int = 0
    exempt: int = 0


class ThresholdFinding(BaseModel):
    """A rulebook threshold an organization breaks on the date (reported, never refused)."""

    rule: str
    source: str
    message: str
    severity: str = "warning"
    org_id: uuid.UUID
    org_code: str


class OrganizationStats(BaseModel):
    id: uuid.UUID
    as_of: dt.date
    members_by_status: MembersByStatus = Field(description="members of the organization's whole subtree")
    children_by_level: dict[str, int] = Field(description="active organizations directly under it, by level")
    descendants_by_level: dict[str, int] = Field(
        description="active organizations anywhere under it, by level"
    )
    findings: list[ThresholdFinding] = Field(
        description="threshold rules broken by the organization or an active grassroots organization or cell "
        "of its subtree, ordered by code"
    )
