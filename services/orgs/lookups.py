"""Reads that answer in one call what a composed view would otherwise ask in several.

* ``GET /v1/organizations/paths?id=…&id=…&as_of=`` — each organization's path from the root down to itself,
  as ``GET /v1/organizations/{id}/ancestors`` answers it, for up to :data:`MAX_IDS` organizations (a cadre's
  assignments, say). An organization that did not exist on the day or is outside your scope is left out.
* ``GET /v1/members/{id}/summary?as_of=`` — a member's status, admission and recognition dates and home
  organization on the day: what a cadre's profile shows of the member record. No personal or sensitive field
  is answered, so nothing is audited. 404 when the member was not a member on the day (not yet admitted, say)
  or is outside your scope, as ``GET /v1/members/{id}`` answers then.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.orgs.members import service as members_service
from services.orgs.members.schemas import MemberStatus
from services.orgs.organizations import repository as organizations_repo
from services.orgs.organizations import service as organizations_service
from services.orgs.organizations.schemas import OrganizationRead
from shared.auth import CurrentPrincipal
from shared.problems import NotFound
from shared.tree import path_nodes
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute)

MAX_IDS = 50
AsOf = Annotated[dt.date | None, Query(description="answer as the records stood on this day (default today)")]


class OrganizationPath(BaseModel):
    id: uuid.UUID
    path: list[OrganizationRead] = Field(description="from the root down to the organization itself")


class OrganizationPaths(BaseModel):
    items: list[OrganizationPath] = Field(description="in the order asked, without repeats")


class OrganizationBrief(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    level: str


class MemberSummary(BaseModel):
    id: uuid.UUID
    status: MemberStatus
    admitted_on: dt.date
    recognized_on: dt.date | None
    state_since: dt.date = Field(description="the date since which this state (as of as_of) holds")
    org_id: uuid.UUID = Field(description="the home organization (cell or grassroots cell) on as_of")
    organization: OrganizationBrief | None = Field(
        description="the home organization on as_of (null when it is outside your scope)"
    )


@router.get(
    "/v1/organizations/paths",
    response_model=OrganizationPaths,
    operation_id="get_organization_paths",
    tags=["organizations"],
    summary="The paths of several organizations, from the root down",
)
async def get_paths(
    session: SessionDep,
    principal: CurrentPrincipal,
    ids: Annotated[
        list[uuid.UUID],
        Query(alias="id", min_length=1, max_length=MAX_IDS, description=f"1 to {MAX_IDS} organization ids"),
    ],
    as_of: AsOf = None,
) -> dict[str, Any]:
    """As ``GET /v1/organizations/{id}/ancestors`` for each (ancestors outside your scope are left out); an
    organization that did not exist on the day or is outside your scope is left out of ``items``."""
    day = as_of or dt.date.today()
    scope = await organizations_service.scope_path(session, principal)
    found: dict[uuid.UUID, list[int]] = {}  # each organization asked: the nodes of its path on the day
    for org_id in dict.fromkeys(ids):
        row = await organizations_repo.row_of_id_at(session, org_id, day)
        if row is not None and organizations_service.within_scope(row["current_path"], scope):
            found[org_id] = path_nodes(row["path"])
    if not found:
        return {"items": []}
    # Every organization of those paths, read once (as ancestors reads one path).
    nodes = sorted({node for path in found.values() for node in path})
    rows = await organizations_repo.rows_for_nodes(session, nodes, day)
    if scope is not None:  # ancestors outside the scope are left out, by where they stand now
        now = {r["node"]: await organizations_repo.current_row(session, r["node"]) for r in rows}
        within = organizations_service.within_scope
        rows = [r for r in rows if (c := now[r["node"]]) is not None and within(c["path"], scope)]
    answers = await organizations_service.to_reads(session, rows, day)
    reads = dict(zip((r["node"] for r in rows), answers, strict=True))
    return {
        "items": [
            {"id": org_id, "path": [reads[n] for n in nodes if n in reads]} for org_id, nodes in found.items()
        ]
    }


@router.get(
    "/v1/members/{member_id}/summary",
    response_model=MemberSummary,
    operation_id="get_member_summary",
    tags=["members"],
    summary="A member's status and home organization on a day, without personal fields",
)
async def get_member_summary(
    member_id: Annotated[uuid.UUID, Path()],
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: AsOf = None,
) -> dict[str, Any]:
    day = as_of or dt.date.today()
    member = await members_service.get(session, principal, member_id, day)
    try:
        org = await organizations_service.get(session, principal, uuid.UUID(member["org_id"]), day)
    except NotFound:
        organization = None
    else:
        organization = {k: org[k] for k in ("id", "code", "name", "level")}
    return {
        "id": member["id"],
        "status": member["status"],
        "admitted_on": member["admitted_on"],
        "recognized_on": member["recognized_on"],
        "state_since": member["state_since"],
        "org_id": member["org_id"],
        "organization": organization,
    }
