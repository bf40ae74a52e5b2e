"""``GET /v1/stats/sector``: the cadres part of the sector report."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.cadres.stats import service
from shared.auth import CurrentPrincipal
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/stats", tags=["stats"], route_class=UnitOfWorkRoute)


class Period(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date


class Scope(BaseModel):
    id: uuid.UUID | None
    name: str | None


class Personnel(BaseModel):
    actions_by_kind: dict[str, int]
    cadres_by_kind: dict[str, int]
    cadres_moved_or_appointed: int


class Streamlining(BaseModel):
    baseline_year: int
    year: int
    baseline: int
    allocated: int
    rate: float | None
    target: float | None
    met: bool | None


class Payroll(BaseModel):
    civil_servant: Streamlining
    public_employee: Streamlining


class Planning(BaseModel):
    term: str
    posts: int
    posts_without_candidate: int
    candidates: int
    ready_candidates: int


class SectorCadres(BaseModel):
    period: Period
    scope: Scope
    personnel: Personnel
    payroll: Payroll
    planning: Planning


@router.get("/sector", response_model=SectorCadres, operation_id="cadres_sector_stats")
async def sector(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[dt.date, Query(alias="from")],
    end: Annotated[dt.date, Query(alias="to")],
    within: Annotated[uuid.UUID | None, Query(description="default: your scope, else everything")] = None,
    baseline_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The personnel, payroll and planning sections of the sector report (dates inclusive)."""
    return await service.sector(
        session,
        request,
        principal,
        request.app.state.rulebook,
        start=start,
        end=end,
        within_org=within,
        baseline_year=baseline_year,
    )
