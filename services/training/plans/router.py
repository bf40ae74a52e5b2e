"""HTTP endpoints of training plans."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.training.enrollments.service import within_path_of
from services.training.plans import repository as repo
from services.training.plans import service
from services.training.plans.schemas import PlanTarget, TrainingPlanPage, TrainingPlanRead
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.orgtree.scope import scope_path
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/training-plans", tags=["training plans"], route_class=UnitOfWorkRoute)
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.put(
    "/{year}/{org_id}/{programme_id}",
    response_model=TrainingPlanRead,
    responses={201: {"model": TrainingPlanRead, "description": "created"}},
    operation_id="set_training_plan",
)
async def set_plan(
    year: Year,
    org_id: Annotated[uuid.UUID, Path()],
    programme_id: Annotated[uuid.UUID, Path()],
    body: PlanTarget,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Set the year's target of an organization for a programme: 201 the first time, 200 after (``If-Match``
    with a stale ETag: 412)."""
    read, created = await service.put(
        session, request, principal, year=year, org_id=org_id, programme_id=programme_id, target=body.target
    )
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/training-plans/{year}/{org_id}/{programme_id}"
    set_etag(response, read["version"])
    return read


@router.get("", response_model=TrainingPlanPage, operation_id="list_training_plans")
async def list_plans(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    within_org: Annotated[
        uuid.UUID | None, Query(alias="within", description="organizations in this subtree")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Plans of organizations in your scope with their progress, ordered by year, the organization's place in
    the tree, then the programme's code."""
    scope = await scope_path(session, principal)
    within_path = await within_path_of(session, request, scope, within_org)
    after = decode_cursor(cursor)
    rows = await repo.list_rows(
        session,
        year=year,
        paths=[p for p in (scope, within_path) if p is not None],
        after=(int(after[0]), str(after[1]), str(after[2])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([last["year"], last["org_path"], last["programme_code"]])
        if more and last
        else None,
    }
