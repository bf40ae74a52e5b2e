"""HTTP endpoints of organizations: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.orgs.organizations import service
from services.orgs.organizations.schemas import (
    AncestorList,
    HistoryRead,
    Kind,
    Level,
    OrganizationCreate,
    OrganizationDissolve,
    OrganizationMerge,
    OrganizationMove,
    OrganizationPage,
    OrganizationRead,
    OrganizationTree,
    OrganizationUpdate,
    StatusFilter,
    Tag,
)
from shared.auth import CurrentPrincipal
from shared.etag import check_if_match, set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/organizations", tags=["organizations"], route_class=UnitOfWorkRoute)

AsOf = Annotated[dt.date | None, Query(description="answer as the records stood on this day (default today)")]
OrgId = Annotated[uuid.UUID, Path(description="organization id")]


def _day(as_of: dt.date | None) -> dt.date:
    return as_of or dt.date.today()


def _rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook  # type: ignore[no-any-return]


def _one(read: dict[str, Any], response: Response) -> dict[str, Any]:
    set_etag(response, read["version"])
    return read


@router.post("", status_code=201, response_model=OrganizationRead, operation_id="establish_organization")
async def establish(
    body: OrganizationCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = await service.establish(session, principal, _rulebook(request), body)
    response.headers["Location"] = f"/v1/organizations/{read['id']}"
    return _one(read, response)


@router.get("", response_model=OrganizationPage, operation_id="list_organizations")
async def list_organizations(
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    within: Annotated[uuid.UUID | None, Query(description="only this organization's subtree")] = None,
    level: Level | None = None,
    kind: Kind | None = None,
    tag: Tag | None = None,
    status: Annotated[
        StatusFilter, Query(description="default active; `all` for every status")
    ] = StatusFilter.active,
    q: Annotated[str | None, Query(max_length=200, description="name or code, diacritics optional")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Organizations existing on ``as_of``, ordered by code."""
    after = decode_cursor(cursor)
    items = await service.list_(
        session,
        principal,
        day=_day(as_of),
        within=within,
        level=level,
        kind=kind,
        tag=tag,
        statuses=None if status is StatusFilter.all else (status.value,),
        q=q,
        after_code=str(after[0]) if after else None,
        limit=limit,
    )
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor([items[-1]["code"]]) if more else None}


@router.post("/merge", response_model=OrganizationRead, operation_id="merge_organizations")
async def merge(
    body: OrganizationMerge,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Merge the sources into the target: their active children move to it; the sources end as ``merged``."""
    return _one(await service.merge(session, principal, _rulebook(request), body), response)


@router.get("/{org_id}", response_model=OrganizationRead, operation_id="get_organization")
async def get_organization(
    org_id: OrgId, response: Response, session: SessionDep, principal: CurrentPrincipal, as_of: AsOf = None
) -> dict[str, Any]:
    return _one(await service.get(session, principal, org_id, _day(as_of)), response)


@router.get("/{org_id}/ancestors", response_model=AncestorList, operation_id="get_organization_ancestors")
async def get_ancestors(
    org_id: OrgId, session: SessionDep, principal: CurrentPrincipal, as_of: AsOf = None
) -> dict[str, Any]:
    """From the root down to the organization itself (those outside your scope are left out)."""
    return {"items": await service.ancestors(session, principal, org_id, _day(as_of))}


@router.get("/{org_id}/tree", response_model=OrganizationTree, operation_id="get_organization_tree")
async def get_tree(
    org_id: OrgId,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    depth: Annotated[int, Query(ge=1, le=10)] = 1,
) -> Response:
    """The organization with its active descendants nested ``depth`` levels down, as of the day."""
    # Written as JSON by the service and sent as is (``response_model`` only documents it): a committee's
    # subtree is ~10,000 nodes and ~6 MB; dicts and an encoder cost more than the query (bench_tree.py).
    body, version = await service.tree_json(session, principal, org_id, _day(as_of), depth)
    return Response(body, media_type="application/json", headers={"ETag": f'"{version}"'})


@router.get("/{org_id}/history", response_model=HistoryRead, operation_id="get_organization_history")
async def get_history(org_id: OrgId, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Every recorded change, oldest first (by effective date)."""
    return {"id": org_id, "items": await service.history(session, principal, org_id)}


@router.patch("/{org_id}", response_model=OrganizationRead, operation_id="amend_organization")
async def amend(
    org_id: OrgId,
    body: OrganizationUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Amend name, kind, tags or level from ``effective_on``. ``If-Match`` with a stale version → 412."""
    return _one(
        await service.amend(
            session, principal, _rulebook(request), org_id, body, lambda v: check_if_match(request, v)
        ),
        response,
    )


@router.post("/{org_id}/move", response_model=OrganizationRead, operation_id="move_organization")
async def move(
    org_id: OrgId,
    body: OrganizationMove,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Move under another parent from ``effective_on``; the whole subtree moves with it."""
    return _one(
        await service.move(
            session, principal, _rulebook(request), org_id, body, lambda v: check_if_match(request, v)
        ),
        response,
    )


@router.post("/{org_id}/dissolve", response_model=OrganizationRead, operation_id="dissolve_organization")
async def dissolve(
    org_id: OrgId,
    body: OrganizationDissolve,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Dissolve from ``effective_on``; refused while active children remain unless ``transfer_to`` names
    where they go."""
    return _one(
        await service.dissolve(
            session, principal, _rulebook(request), org_id, body, lambda v: check_if_match(request, v)
        ),
        response,
    )
