"""Request and response models of payroll."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class PayrollCategory(StrEnum):
    civil_servant = "civil_servant"  # cadres and civil servants
    public_employee = "public_employee"


class PayrollSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allocated: int = Field(ge=0, le=10_000_000, description="allocated headcount (biên chế được giao)")
    actual: int = Field(ge=0, le=10_000_000, description="actual headcount")


class PayrollRead(BaseModel):
    org_id: uuid.UUID
    org_name: str | None
    year: int
    category: PayrollCategory
    allocated: int
    actual: int
    recorded_at: dt.datetime
    recorded_by: str | None
    version: int = Field(description="how many times this entry was set (the ETag)")


class Streamlining(BaseModel):
    baseline_year: int
    year: int
    baseline: int = Field(description="allocated headcount of the subtree in the baseline year")
    allocated: int = Field(description="allocated headcount of the subtree in the year")
    rate: float | None = Field(
        description="(baseline − allocated) ÷ baseline, 4 decimals; null if no baseline"
    )
    target: float | None = Field(description="the rulebook's minimum rate for the year; null if none")
    met: bool | None


class StreamliningReport(BaseModel):
    civil_servant: Streamlining
    public_employee: Streamlining
