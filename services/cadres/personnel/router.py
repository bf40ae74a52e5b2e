"""HTTP endpoints of personnel actions, a cadre's assignments and the appointments coming due.

Paths are absolute (no prefix): the router serves ``/v1/personnel-actions``, ``/v1/cadres/{id}/assignments``
and ``/v1/appointments/due``. ``/v1/personnel-actions:check`` is registered before ``/{action_id}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.cadres.personnel import repository as repo
from services.cadres.personnel import service
from services.cadres.personnel.checks import minus_working_days
from services.cadres.personnel.schemas import (
    ActionCreate,
    ActionKind,
    ActionPage,
    ActionRead,
    ActionResult,
    AssignmentPage,
    DuePage,
)
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.orgtree.scope import scope_path
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["personnel actions"], route_class=UnitOfWorkRoute)
ACTIONS = "/v1/personnel-actions"
NOTICE_RULE = "appointments.reappointment_notice"


def _rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook


def _after(cursor: str | None) -> tuple[str, str] | None:
    after = decode_cursor(cursor)
    return (str(after[0]), str(after[1])) if after else None


@router.post(f"{ACTIONS}:check", response_model=ActionResult, operation_id="check_personnel_action")
async def check_action(
    body: ActionCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The rulebook's findings on the action, as recording it would find them; writes nothing."""
    return await service.check(session, request, principal, _rulebook(request), body)


@router.post(ACTIONS, status_code=201, response_model=ActionResult, operation_id="record_personnel_action")
async def record_action(
    body: ActionCreate, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Record a decision and apply it to assignments. Error findings refuse it (422 ``rule-violation``)
    unless ``acknowledged_findings`` gives the reason the committee decided anyway."""
    action = await service.record(session, request, principal, _rulebook(request), body)
    response.headers["Location"] = f"{ACTIONS}/{action['id']}"
    set_etag(response, 1)
    return {"action": action, "findings": action["findings"]}


@router.get(ACTIONS, response_model=ActionPage, operation_id="list_personnel_actions")
async def list_actions(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    within_org: Annotated[
        uuid.UUID | None,
        Query(alias="within", description="to, from or the post's organization in this subtree"),
    ] = None,
    kind: ActionKind | None = None,
    cadre_id: uuid.UUID | None = None,
    from_day: Annotated[dt.date | None, Query(alias="from", description="decided on or after")] = None,
    to_day: Annotated[dt.date | None, Query(alias="to", description="decided on or before")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Actions in scope, latest decision first (then by id)."""
    items = await service.list_(
        session,
        request,
        principal,
        within_org=within_org,
        kind=kind.value if kind else None,
        cadre_id=cadre_id,
        from_day=from_day,
        to_day=to_day,
        after=_after(cursor),
        limit=limit,
    )
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "next_cursor": encode_cursor([items[-1]["decided_on"], items[-1]["id"]]) if more else None,
    }


@router.get(f"{ACTIONS}/{{action_id}}", response_model=ActionRead, operation_id="get_personnel_action")
async def get_action(
    action_id: Annotated[uuid.UUID, Path()],
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = await service.get(session, principal, action_id)
    set_etag(response, 1)  # an action is never changed
    return read


@router.get(
    "/v1/cadres/{cadre_id}/assignments", response_model=AssignmentPage, operation_id="list_cadre_assignments"
)
async def list_assignments(
    cadre_id: Annotated[uuid.UUID, Path()],
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The cadre's assignments in force on ``as_of``, by start date."""
    await service.visible_cadre(session, principal, cadre_id)
    rows = await repo.assignments_of(
        session, cadre_id, as_of or dt.date.today(), after=_after(cursor), limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.assignment_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["starts_on"].isoformat(), str(rows[-1]["id"])])
        if more
        else None,
    }


@router.get("/v1/appointments/due", response_model=DuePage, operation_id="list_appointments_due")
async def list_due(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    before: Annotated[dt.date, Query(description="terms ending before this day")],
    within_org: Annotated[uuid.UUID | None, Query(alias="within")] = None,
    as_of: Annotated[
        dt.date | None, Query(description="assignments in force on this day; default today")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Assignments in force whose term ends before ``before``, by term end, each with the day by which the
    reappointment notice is due: ``term_ends_on`` minus the rulebook's working days (Monday to Friday;
    public holidays are not taken out)."""
    day = as_of or dt.date.today()
    scope = await scope_path(session, principal)
    rows = await repo.due(
        session,
        day=day,
        before=before,
        scope_path=scope,
        within_path=await service.within_path_of(session, request, scope, within_org),
        after=_after(cursor),
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    rulebook = _rulebook(request)
    items = []
    for row in rows:
        # The notice period in force when the term ends (else today's); none in force: no deadline.
        rule = rulebook.find(NOTICE_RULE, row["term_ends_on"]) or rulebook.find(NOTICE_RULE, day)
        deadline = minus_working_days(row["term_ends_on"], int(rule.value)) if rule else None
        items.append({**service.assignment_read(row), "notice_deadline": deadline})
    return {
        "items": items,
        "next_cursor": encode_cursor([rows[-1]["term_ends_on"].isoformat(), str(rows[-1]["id"])])
        if more
        else None,
    }
