"""Request and response models of posts."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.cadres.cadres.schemas import TheoryLevel


class Category(StrEnum):
    secretary = "secretary"
    deputy_secretary = "deputy_secretary"
    standing_member = "standing_member"
    executive_member = "executive_member"
    inspection_chair = "inspection_chair"
    head = "head"
    deputy_head = "deputy_head"
    chair = "chair"
    vice_chair = "vice_chair"
    other = "other"


class Requirements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theory_level: TheoryLevel | None = Field(default=None, description="minimum political theory level")
    min_years_in_prior_post: int | None = Field(default=None, ge=0, le=40)


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: uuid.UUID
    title: str = Field(min_length=1, max_length=300)
    category: Category
    seats: int = Field(default=1, ge=1, le=100)
    requirements: Requirements = Field(default_factory=Requirements)


class PostRead(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str | None
    title: str
    category: Category
    seats: int
    requirements: Requirements
    holders: int = Field(description="cadres holding it today")
    vacant: int = Field(description="free seats today")
    version: int


class PostPage(BaseModel):
    items: list[PostRead]
    next_cursor: str | None = None
