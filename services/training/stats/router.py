"""``GET /v1/stats/sector``: the training part of the sector report."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.training.stats import service
from shared.auth import CurrentPrincipal
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/stats", tags=["stats"], route_class=UnitOfWorkRoute)


class Period(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date


class Scope(BaseModel):
    id: uuid.UUID | None
    name: str | None


class TrainingSection(BaseModel):
    cadres_sent_by_theory_level: dict[str, int] = Field(description="distinct cadres sent in the period")
    cadres_sent_by_programme_kind: dict[str, int] = Field(description="distinct cadres sent in the period")
    completed_by_theory_level: dict[str, int] = Field(
        description="distinct cadres who completed in the period"
    )


class SectorTraining(BaseModel):
    period: Period
    scope: Scope
    training: TrainingSection


@router.get("/sector", response_model=SectorTraining, operation_id="training_sector_stats")
async def sector(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[dt.date, Query(alias="from")],
    end: Annotated[dt.date, Query(alias="to")],
    within: Annotated[
        uuid.UUID | None, Query(description="sending organizations in this subtree; default: your scope")
    ] = None,
) -> dict[str, Any]:
    """The training section of the sector report (dates inclusive)."""
    return await service.sector(session, request, principal, start=start, end=end, within_org=within)
