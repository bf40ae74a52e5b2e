"""Request and response models of succession planning."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from services.cadres.posts.schemas import Category
from shared.rulebook import Finding

TERM_PATTERN = r"^\d{4}-\d{4}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgedFindings(Strict):
    reason: str = Field(min_length=1, max_length=1000, description="why the committee decides despite them")


class PlanCreate(Strict):
    cadre_id: uuid.UUID
    post_id: uuid.UUID
    term: str = Field(pattern=TERM_PATTERN, description='the planning term, e.g. "2025-2030"')
    added_on: dt.date
    acknowledged_findings: AcknowledgedFindings | None = None


class PlanRemoval(Strict):
    removed_on: dt.date
    reason: str = Field(min_length=1, max_length=1000)


class PlanRead(BaseModel):
    id: uuid.UUID
    cadre_id: uuid.UUID
    post_id: uuid.UUID
    term: str
    added_on: dt.date
    removed_on: dt.date | None
    removal_reason: str | None
    findings: list[Finding] = Field(description="the findings of the check when the entry was added")
    acknowledged_reason: str | None
    recorded_at: dt.datetime
    recorded_by: str | None


class PlanOutcome(BaseModel):
    plan: PlanRead | None = Field(description="the entry recorded; null for a check")
    findings: list[Finding]


class PlanPage(BaseModel):
    items: list[PlanRead]
    next_cursor: str | None = None


class PostCoverage(BaseModel):
    post_id: uuid.UUID
    org_id: uuid.UUID
    org_name: str | None
    title: str
    category: Category
    planned: int = Field(description="cadres planned for the post in the term, on the day")
    ready: int = Field(description="of them, those meeting the post's requirements on the day")


class CoverageTotals(BaseModel):
    posts: int
    posts_without_candidate: int
    posts_with_one: int
    candidates: int = Field(description="distinct cadres planned for a post in scope")
    ready_candidates: int = Field(
        description="distinct cadres ready for at least one post they are planned for"
    )


class Coverage(BaseModel):
    term: str
    as_of: dt.date
    totals: CoverageTotals = Field(description="over every post in scope (not only this page)")
    items: list[PostCoverage]
    next_cursor: str | None = None
