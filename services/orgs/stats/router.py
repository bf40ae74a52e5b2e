"""``GET /v1/stats/sector``: the orgs part of the sector report."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.orgs.stats import service
from shared.auth import CurrentPrincipal
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/stats", tags=["stats"], route_class=UnitOfWorkRoute)


class Period(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date


class Scope(BaseModel):
    id: uuid.UUID | None
    name: str | None


class Documents(BaseModel):
    issued_by_kind: dict[str, int]


class Organizations(BaseModel):
    grassroots_established_by_kind: dict[str, int]
    grassroots_active_at_end_by_kind: dict[str, int]
    established_by_level: dict[str, int]
    dissolved_by_level: dict[str, int]
    merged_by_level: dict[str, int]
    ratings_by_year: dict[str, dict[str, int]]


class Members(BaseModel):
    admitted_by_kind: dict[str, int]
    admitted_total: int
    recognized_total: int
    left_by_reason: dict[str, int]
    active_at_end_by_status: dict[str, int]


class Coverage(BaseModel):
    units_total: int
    units_without_cell: int
    units_without_members: int


class SectorOrgs(BaseModel):
    period: Period
    scope: Scope
    documents: Documents
    organizations: Organizations
    members: Members
    coverage: Coverage


@router.get(
    "/sector", response_model=SectorOrgs, response_model_by_alias=True, operation_id="orgs_sector_stats"
)
async def sector(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[dt.date, Query(alias="from")],
    end: Annotated[dt.date, Query(alias="to")],
    within: Annotated[uuid.UUID | None, Query(description="default: your scope, else everything")] = None,
) -> dict[str, Any]:
    """The documents, organizations, members and coverage sections of the sector report (dates inclusive)."""
    return await service.sector(session, principal, start=start, end=end, within=within)
