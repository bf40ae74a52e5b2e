"""HTTP endpoints of organizations' ratings and threshold report: thin — parse, call the service, shape."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.orgs.ratings import service
from services.orgs.ratings.schemas import OrganizationStats, RatingList, RatingRead, RatingSet
from shared.auth import CurrentPrincipal
from shared.etag import check_if_match, set_etag
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/organizations", tags=["organizations"], route_class=UnitOfWorkRoute)

OrgId = Annotated[uuid.UUID, Path(description="organization id")]
Year = Annotated[int, Path(ge=1930, le=2100, description="the year rated")]
AsOf = Annotated[dt.date | None, Query(description="answer as the records stood on this day (default today)")]


def _rulebook(request: Request) -> Rulebook:
    rulebook: Rulebook = request.app.state.rulebook
    return rulebook


@router.put("/{org_id}/ratings/{year}", response_model=RatingRead, operation_id="rate_organization")
async def rate(
    org_id: OrgId,
    year: Year,
    body: RatingSet,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Set the organization's annual rating (Regulation 366-QĐ/TW). A later rating of the same year replaces
    it; each one is kept. ``If-Match`` with a stale organization version → 412."""
    read = await service.rate(session, principal, org_id, year, body, lambda v: check_if_match(request, v))
    set_etag(response, read["version"])
    return read


@router.get("/{org_id}/ratings", response_model=RatingList, operation_id="list_organization_ratings")
async def list_ratings(org_id: OrgId, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The rating in force of each year, latest year first."""
    return {"org_id": org_id, "items": await service.ratings(session, principal, org_id)}


@router.get("/{org_id}/stats", response_model=OrganizationStats, operation_id="get_organization_stats")
async def get_stats(
    org_id: OrgId, request: Request, session: SessionDep, principal: CurrentPrincipal, as_of: AsOf = None
) -> dict[str, Any]:
    """Members by status, organizations under it by level, and the thresholds (Party Charter art. 21, 24;
    294-QĐ/TW) broken by it or by an active grassroots organization or cell of its subtree, on ``as_of``."""
    return await service.stats(session, principal, _rulebook(request), org_id, as_of or dt.date.today())
