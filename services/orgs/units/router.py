"""HTTP endpoints of residential units and of the coverage report: thin — parse, call the service, shape."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.orgs.units import service
from services.orgs.units.schemas import (
    CoverageRead,
    ResidentialUnitCreate,
    ResidentialUnitPage,
    ResidentialUnitRead,
    ResidentialUnitUpdate,
)
from shared.auth import CurrentPrincipal
from shared.etag import check_if_match, set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import Problem
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["residential units"], route_class=UnitOfWorkRoute)

AsOf = Annotated[dt.date | None, Query(description="answer as the records stood on this day (default today)")]
UnitId = Annotated[uuid.UUID, Path(description="residential unit id")]
Within = Annotated[
    uuid.UUID | None, Query(description="only units of communes in this organization's subtree")
]


def _day(as_of: dt.date | None) -> dt.date:
    return as_of or dt.date.today()


def _rulebook(request: Request) -> Rulebook:
    rulebook: Rulebook = request.app.state.rulebook
    return rulebook


def _one(read: dict[str, Any], response: Response) -> dict[str, Any]:
    set_etag(response, read["version"])
    return read


def _after(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        return str(key[0]), uuid.UUID(str(key[1]))
    except (IndexError, ValueError) as exc:
        raise Problem(422, "The cursor is not one this service issued.", slug="invalid-cursor") from exc


@router.post(
    "/v1/residential-units",
    status_code=201,
    response_model=ResidentialUnitRead,
    operation_id="create_residential_unit",
)
async def create(
    body: ResidentialUnitCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Record a residential unit in a commune organization, optionally covered by a cell of that commune."""
    read = await service.create(session, principal, _rulebook(request), body)
    response.headers["Location"] = f"/v1/residential-units/{read['id']}"
    return _one(read, response)


@router.get(
    "/v1/residential-units", response_model=ResidentialUnitPage, operation_id="list_residential_units"
)
async def list_units(
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    within: Within = None,
    commune_org_id: Annotated[uuid.UUID | None, Query(description="only units of this commune")] = None,
    q: Annotated[str | None, Query(max_length=200, description="name, diacritics optional")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Units recorded on ``as_of``, ordered by name (diacritics ignored), then id."""
    items = await service.list_(
        session,
        principal,
        day=_day(as_of),
        within=within,
        commune_org_id=commune_org_id,
        q=q,
        after=_after(cursor),
        limit=limit,
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(items[-1]["_sort"]) if more else None
    for item in items:
        item.pop("_sort")
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/v1/residential-units/{unit_id}", response_model=ResidentialUnitRead, operation_id="get_residential_unit"
)
async def get_unit(
    unit_id: UnitId, response: Response, session: SessionDep, principal: CurrentPrincipal, as_of: AsOf = None
) -> dict[str, Any]:
    return _one(await service.get(session, principal, unit_id, _day(as_of)), response)


@router.patch(
    "/v1/residential-units/{unit_id}",
    response_model=ResidentialUnitRead,
    operation_id="update_residential_unit",
)
async def update(
    unit_id: UnitId,
    body: ResidentialUnitUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Change name, kind, commune or covering cell from ``effective_on`` (``covering_org_id: null``: no cell
    covers it from then). ``If-Match`` with a stale version → 412."""
    return _one(
        await service.update(
            session, principal, _rulebook(request), unit_id, body, lambda v: check_if_match(request, v)
        ),
        response,
    )


@router.get("/v1/coverage", response_model=CoverageRead, operation_id="get_coverage")
async def get_coverage(
    session: SessionDep, principal: CurrentPrincipal, as_of: AsOf = None, within: Within = None
) -> dict[str, Any]:
    """Units of the communes within the subtree on ``as_of``: those that no active Party cell covers and those
    where no Party member lives."""
    return await service.coverage(session, principal, day=_day(as_of), within=within)
