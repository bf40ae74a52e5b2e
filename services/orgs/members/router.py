"""HTTP endpoints of members: thin — parse, call the service, audit sensitive answers, shape the answer.

Every answer that carries a sensitive field is recorded in ``sensitive_reads`` before it leaves:

* on writes, in the request's own unit of work (committed with the change, before the response);
* on reads, in a separate write transaction (``app.state.db.transaction()``) committed before the endpoint
  returns — the read's own session is never committed, and an audit row that failed to commit must stop
  the answer (a 500 without the data), never follow it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members import service
from services.orgs.members.schemas import (
    MemberCreate,
    MemberDepart,
    MemberExempt,
    MemberPage,
    MemberRead,
    MemberRecognize,
    MemberStatusFilter,
    MemberTransfer,
    RatingRead,
    RatingSet,
)
from shared.auth import CurrentPrincipal, Principal
from shared.etag import check_if_match, set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import Problem
from shared.rulebook import Rulebook
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/members", tags=["members"], route_class=UnitOfWorkRoute)

AsOf = Annotated[dt.date | None, Query(description="answer as the records stood on this day (default today)")]
MemberId = Annotated[uuid.UUID, Path(description="member id")]
Year = Annotated[int, Path(ge=1930, le=2100, description="the rated year")]


def _day(as_of: dt.date | None) -> dt.date:
    return as_of or dt.date.today()


def _rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook  # type: ignore[no-any-return]


async def _written(
    read: dict[str, Any], response: Response, session: AsyncSession, principal: Principal
) -> dict[str, Any]:
    """A write's answer: audited in the write's own unit of work, with its ETag."""
    fields = service.sensitive_fields_shown(read)
    if fields:
        await service.record_sensitive_read(session, principal, uuid.UUID(read["id"]), fields)
    set_etag(response, read["version"])
    return read


def _after(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        sort_key, last_id = key
        return str(sort_key), uuid.UUID(str(last_id))
    except (ValueError, TypeError) as exc:
        raise Problem(422, "The cursor is not one this service issued.", slug="invalid-cursor") from exc


@router.post("", status_code=201, response_model=MemberRead, operation_id="admit_member")
async def admit(
    body: MemberCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Admit a member (``probationary``) into an active cell or grassroots cell."""
    read = await service.admit(session, principal, _rulebook(request), body)
    response.headers["Location"] = f"/v1/members/{read['id']}"
    return await _written(read, response, session, principal)


@router.get("", response_model=MemberPage, operation_id="list_members")
async def list_members(
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
    within: Annotated[
        uuid.UUID | None, Query(description="only members in this organization's subtree")
    ] = None,
    org_id: Annotated[uuid.UUID | None, Query(description="only members of this organization")] = None,
    member_id: Annotated[
        uuid.UUID | None,
        Query(
            alias="id",
            description="only this member: one item, or none if not listed on as_of with these filters "
            "(the summary of a member without the sensitive read of GET /v1/members/{id})",
        ),
    ] = None,
    status: Annotated[
        MemberStatusFilter | None,
        Query(
            description="default: current members (probationary, official, exempt); `all` adds those who left"
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="name or member number, matched at the start of a word of the name "
            "(`nguyen van an` finds Nguyễn Văn An and Nguyễn Văn Anh, `van an` too; `uyen` does not find "
            "Nguyễn) or at the start of the member number; diacritics and case optional",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Members on ``as_of`` — at home in the organization(s) or temporarily active there — ordered
    Vietnamese-style: given name, then full name. No sensitive field."""
    if status is None:
        statuses: tuple[str, ...] | None = ("probationary", "official", "exempt")
    elif status is MemberStatusFilter.all:
        statuses = None
    else:
        statuses = (status.value,)
    items = await service.list_(
        session,
        principal,
        day=_day(as_of),
        within=within,
        org_id=org_id,
        member_id=member_id,
        statuses=statuses,
        q=q,
        after=_after(cursor),
        limit=limit,
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor([items[-1]["_sort_key"], items[-1]["id"]]) if more else None
    for item in items:
        del item["_sort_key"]
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{member_id}", response_model=MemberRead, operation_id="get_member")
async def get_member(
    member_id: MemberId,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """The member as of the day. ``national_id``, ``ethnicity`` and ``religion`` are answered only to the
    roles admin, vetting and organizer; each such answer is logged."""
    read = await service.get(session, principal, member_id, _day(as_of))
    fields = service.sensitive_fields_shown(read)
    if fields:
        async with request.app.state.db.transaction() as audit:
            await service.record_sensitive_read(audit, principal, member_id, fields)
    set_etag(response, read["version"])
    return read


@router.post("/{member_id}/recognition", response_model=MemberRead, operation_id="recognize_member")
async def recognize(
    member_id: MemberId,
    body: MemberRecognize,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Recognize a probationary member as official (not before the probation has passed)."""
    read = await service.recognize(
        session, principal, _rulebook(request), member_id, body, lambda v: check_if_match(request, v)
    )
    return await _written(read, response, session, principal)


@router.post("/{member_id}/transfers", response_model=MemberRead, operation_id="transfer_member")
async def transfer(
    member_id: MemberId,
    body: MemberTransfer,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Transfer officially (the home organization changes) or temporarily (``until``; the member stays
    counted at home and is also listed in the host)."""
    read = await service.transfer(
        session, principal, _rulebook(request), member_id, body, lambda v: check_if_match(request, v)
    )
    return await _written(read, response, session, principal)


@router.post("/{member_id}/exemption", response_model=MemberRead, operation_id="exempt_member")
async def exempt(
    member_id: MemberId,
    body: MemberExempt,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Exempt an official member from Party activities (elderly or ill, on request)."""
    read = await service.exempt(session, principal, member_id, body, lambda v: check_if_match(request, v))
    return await _written(read, response, session, principal)


@router.post("/{member_id}/departure", response_model=MemberRead, operation_id="record_member_departure")
async def depart(
    member_id: MemberId,
    body: MemberDepart,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """The member leaves the Party (removed, expelled, deceased, withdrawn)."""
    read = await service.depart(session, principal, member_id, body, lambda v: check_if_match(request, v))
    return await _written(read, response, session, principal)


@router.put("/{member_id}/ratings/{year}", response_model=RatingRead, operation_id="rate_member")
async def rate(
    member_id: MemberId,
    year: Year,
    body: RatingSet,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Set the year's rating; the latest one recorded is the rating. ``If-Match`` (the member's version)."""
    read = await service.rate(
        session,
        principal,
        _rulebook(request),
        member_id,
        year,
        body.rating.value,
        lambda v: check_if_match(request, v),
    )
    set_etag(response, read["version"])
    return read
