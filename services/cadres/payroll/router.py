"""HTTP endpoints of payroll. ``/v1/payroll/streamlining`` is registered before the entry routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.cadres.payroll import service
from services.cadres.payroll.schemas import PayrollCategory, PayrollRead, PayrollSet, StreamliningReport
from shared.auth import CurrentPrincipal
from shared.etag import check_if_match, set_etag
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/payroll", tags=["payroll"], route_class=UnitOfWorkRoute)
Year = Annotated[int, Path(ge=1945, le=2200)]


@router.get("/streamlining", response_model=StreamliningReport, operation_id="payroll_streamlining")
async def streamlining(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    within: Annotated[uuid.UUID | None, Query(description="organizations in this subtree")] = None,
    baseline_year: Annotated[
        int | None, Query(ge=1945, le=2200, description="default: the rule's (2021)")
    ] = None,
    year: Annotated[int | None, Query(ge=1945, le=2200, description="default: the current year")] = None,
) -> dict[str, Any]:
    """Per category: allocated headcount over the subtree in the baseline year and in the year (latest
    entries), the streamlining rate and whether it meets the rulebook's target."""
    return await service.streamlining(
        session,
        request,
        principal,
        request.app.state.rulebook,
        within_org=within,
        baseline_year=baseline_year,
        year=year or dt.date.today().year,
    )


@router.put("/{org_id}/{year}/{category}", response_model=PayrollRead, operation_id="set_payroll")
async def set_payroll(
    org_id: uuid.UUID,
    year: Year,
    category: PayrollCategory,
    body: PayrollSet,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Set the allocated and actual headcount (a new entry; the previous ones are kept). ``If-Match`` guards
    against overwriting a change you have not seen."""
    read = await service.set_entry(
        session,
        request,
        principal,
        org_id=org_id,
        year=year,
        category=category,
        body=body,
        check_version=lambda v: check_if_match(request, v),
    )
    set_etag(response, read["version"])
    return read


@router.get("/{org_id}/{year}/{category}", response_model=PayrollRead, operation_id="get_payroll")
async def get_payroll(
    org_id: uuid.UUID,
    year: Year,
    category: PayrollCategory,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = service.to_read(await service.get_entry(session, request, principal, org_id, year, category.value))
    set_etag(response, read["version"])
    return read
