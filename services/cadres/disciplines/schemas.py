"""Request and response models of disciplinary measures."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Measure(StrEnum):
    reprimand = "reprimand"
    warning = "warning"
    removal_from_post = "removal_from_post"


class DisciplineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: Measure
    decided_on: dt.date
    decision_no: str = Field(min_length=1, max_length=100)


class DisciplineRead(BaseModel):
    id: uuid.UUID
    cadre_id: uuid.UUID
    measure: Measure
    decided_on: dt.date
    decision_no: str
    recorded_at: dt.datetime
    recorded_by: str | None
    plans_removed: int | None = Field(
        default=None, description="when recorded: how many plan entries it took the cadre out of"
    )


class DisciplinePage(BaseModel):
    items: list[DisciplineRead]
    next_cursor: str | None = None
