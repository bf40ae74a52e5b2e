"""HTTP endpoints of enrollments. ``/v1/enrollments:check`` is registered before ``/{enrollment_id}``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.training.enrollments import repository as repo
from services.training.enrollments import service
from services.training.enrollments.schemas import (
    Completion,
    EnrollmentCreate,
    EnrollmentPage,
    EnrollmentRead,
    EnrollmentResult,
    Status,
    Withdrawal,
)
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.orgtree.scope import scope_path
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["enrollments"], route_class=UnitOfWorkRoute)
ENROLLMENTS = "/v1/enrollments"
EnrollmentId = Annotated[uuid.UUID, Path(description="enrollment id")]


def _rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook


@router.post(f"{ENROLLMENTS}:check", response_model=EnrollmentResult, operation_id="check_enrollment")
async def check_enrollment(
    body: EnrollmentCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The eligibility findings (Regulation 350-QĐ/TW) that creating it would find; writes nothing."""
    return await service.check(session, request, principal, _rulebook(request), body)


@router.post(ENROLLMENTS, status_code=201, response_model=EnrollmentResult, operation_id="create_enrollment")
async def create_enrollment(
    body: EnrollmentCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Send a cadre to a course. Error findings refuse it (422 ``rule-violation``) unless
    ``acknowledged_findings`` gives the reason; a full course is 409 ``course-full``."""
    enrollment = await service.create(session, request, principal, _rulebook(request), body)
    response.headers["Location"] = f"{ENROLLMENTS}/{enrollment['id']}"
    set_etag(response, enrollment["version"])
    return {"enrollment": enrollment, "findings": enrollment["findings"]}


@router.get(ENROLLMENTS, response_model=EnrollmentPage, operation_id="list_enrollments")
async def list_enrollments(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    course_id: uuid.UUID | None = None,
    cadre_id: uuid.UUID | None = None,
    within_org: Annotated[
        uuid.UUID | None, Query(alias="within", description="sending organization in this subtree")
    ] = None,
    status: Status | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Enrollments sent by organizations in your scope, ordered by ``sent_on`` (then id)."""
    scope = await scope_path(session, principal)
    after = decode_cursor(cursor)
    rows = await repo.list_rows(
        session,
        scope_path=scope,
        within_path=await service.within_path_of(session, request, scope, within_org),
        course_id=course_id,
        cadre_id=cadre_id,
        status=status.value if status else None,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["sent_on"].isoformat(), str(rows[-1]["id"])])
        if more
        else None,
    }


@router.get(f"{ENROLLMENTS}/{{enrollment_id}}", response_model=EnrollmentRead, operation_id="get_enrollment")
async def get_enrollment(
    enrollment_id: EnrollmentId, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    read = await service.get(session, principal, enrollment_id)
    set_etag(response, read["version"])
    return read


@router.post(
    f"{ENROLLMENTS}/{{enrollment_id}}/completion",
    response_model=EnrollmentRead,
    operation_id="complete_enrollment",
)
async def complete_enrollment(
    enrollment_id: EnrollmentId,
    body: Completion,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Record the result (``completed`` with an optional certificate number, or ``failed``) of an enrolled
    cadre; 409 if the enrollment is already closed."""
    read = await service.complete(session, request, principal, enrollment_id, body)
    set_etag(response, read["version"])
    return read


@router.post(
    f"{ENROLLMENTS}/{{enrollment_id}}/withdrawal",
    response_model=EnrollmentRead,
    operation_id="withdraw_enrollment",
)
async def withdraw_enrollment(
    enrollment_id: EnrollmentId,
    body: Withdrawal,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Withdraw an enrolled cadre: the seat is free again; 409 if the enrollment is already closed."""
    read = await service.withdraw(session, principal, enrollment_id, body)
    set_etag(response, read["version"])
    return read
