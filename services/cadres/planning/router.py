"""HTTP endpoints of succession planning. ``/v1/plans:check`` and ``/v1/plans/coverage`` come before the
``/v1/plans/{plan_id}`` routes so that they are never taken for an id."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.cadres.planning import service
from services.cadres.planning.schemas import (
    TERM_PATTERN,
    Coverage,
    PlanCreate,
    PlanOutcome,
    PlanPage,
    PlanRead,
    PlanRemoval,
)
from shared.auth import CurrentPrincipal
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["planning"], route_class=UnitOfWorkRoute)
PlanId = Annotated[uuid.UUID, Path(description="plan entry id")]
Term = Annotated[str | None, Query(pattern=TERM_PATTERN, description='planning term, e.g. "2025-2030"')]


@router.post("/v1/plans:check", response_model=PlanOutcome, operation_id="check_plan")
async def check(
    body: PlanCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """What the rulebook says of planning this cadre for this post (a dry run: nothing is written)."""
    findings = await service.check(session, request, principal, request.app.state.rulebook, body)
    return {"plan": None, "findings": [f.model_dump() for f in findings]}


@router.post("/v1/plans", status_code=201, response_model=PlanOutcome, operation_id="add_plan")
async def add(
    body: PlanCreate, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Plan a cadre for a post; error findings are refused (422) unless ``acknowledged_findings`` is given."""
    plan, findings = await service.add(session, request, principal, request.app.state.rulebook, body)
    response.headers["Location"] = f"/v1/plans/{plan['id']}"
    return {"plan": plan, "findings": [f.model_dump() for f in findings]}


@router.get("/v1/plans/coverage", response_model=Coverage, operation_id="plan_coverage")
async def coverage(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    term: Term = None,
    within: Annotated[uuid.UUID | None, Query(description="posts of organizations in this subtree")] = None,
    as_of: dt.date | None = None,
    limit: Limit = 500,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Per post in scope (ordered by the organization's place in the tree): cadres planned for it in the term
    and those of them ready (meeting the post's requirements) on ``as_of``; totals over the whole scope.
    ``term`` defaults to the congress term ``as_of`` falls in."""
    day = as_of or dt.date.today()
    chosen = term or service.default_term(day)
    items, totals = await service.coverage(
        session, request, principal, within_org=within, term=chosen, day=day
    )
    after = decode_cursor(cursor)
    if after is not None:
        items = [i for i in items if i["_key"] > [str(after[0]), str(after[1])]]
    page = items[:limit]
    more = len(items) > limit
    return {
        "term": chosen,
        "as_of": day,
        "totals": totals,
        "items": page,
        "next_cursor": encode_cursor(page[-1]["_key"]) if more else None,
    }


@router.get("/v1/plans", response_model=PlanPage, operation_id="list_plans")
async def list_plans(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    term: Term = None,
    post_id: uuid.UUID | None = None,
    cadre_id: uuid.UUID | None = None,
    within: Annotated[uuid.UUID | None, Query(description="posts of organizations in this subtree")] = None,
    as_of: Annotated[dt.date | None, Query(description="entries in force on the day (default today)")] = None,
    history: Annotated[bool, Query(description="every entry, removed ones included (as_of ignored)")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Plan entries in scope, ordered by term, then the day they were added."""
    after = decode_cursor(cursor)
    rows = await service.list_(
        session,
        request,
        principal,
        within_org=within,
        term=term,
        post_id=post_id,
        cadre_id=cadre_id,
        day=None if history else (as_of or dt.date.today()),
        after=(str(after[0]), str(after[1]), str(after[2])) if after and len(after) == 3 else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([last["term"], last["added_on"].isoformat(), str(last["id"])])
        if more and last is not None
        else None,
    }


@router.get("/v1/plans/{plan_id}", response_model=PlanRead, operation_id="get_plan")
async def get_plan(plan_id: PlanId, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.to_read(await service.visible_plan(session, principal, plan_id))


@router.post("/v1/plans/{plan_id}/removal", response_model=PlanRead, operation_id="remove_plan")
async def remove(
    plan_id: PlanId, body: PlanRemoval, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Take the cadre out of this plan entry from ``removed_on``, with the reason."""
    return await service.remove(session, principal, plan_id, body)
