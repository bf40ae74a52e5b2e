"""Request and response models of training plans."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class PlanTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: int = Field(ge=0, le=1_000_000, description="cadres to train that year")


class TrainingPlanRead(BaseModel):
    year: int
    org_id: uuid.UUID
    org_name: str | None
    programme_id: uuid.UUID
    programme_code: str
    programme_name: str
    target: int
    enrolled: int = Field(
        description="cadres (distinct) the organization sent that year to the programme, not withdrawn"
    )
    completed: int = Field(description="of those, distinct cadres who completed")
    version: int


class TrainingPlanPage(BaseModel):
    items: list[TrainingPlanRead]
    next_cursor: str | None = None
