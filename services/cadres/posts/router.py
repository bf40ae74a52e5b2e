"""HTTP endpoints of posts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.cadres.posts import repository as repo
from services.cadres.posts import service
from services.cadres.posts.schemas import Category, PostCreate, PostPage, PostRead
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import NotFound
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/posts", tags=["posts"], route_class=UnitOfWorkRoute)


@router.post("", status_code=201, response_model=PostRead, operation_id="define_post")
async def define(
    body: PostCreate, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    read = await service.define(session, request, principal, body)
    response.headers["Location"] = f"/v1/posts/{read['id']}"
    set_etag(response, read["version"])
    return read


@router.get("", response_model=PostPage, operation_id="list_posts")
async def list_posts(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    within_org: Annotated[uuid.UUID | None, Query(alias="within")] = None,
    category: Category | None = None,
    vacant: Annotated[bool | None, Query(description="true: with a free seat today; false: full")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Posts in scope, ordered by their organization's place in the tree."""
    scope = await scope_path(session, principal)
    within_path = None
    if within_org is not None:
        org = await require_org(session, request, within_org)
        if not within(org["path"], scope):
            raise NotFound("organization", f"No organization {within_org}.")
        within_path = org["path"]
    after = decode_cursor(cursor)
    rows = await repo.list_rows(
        session,
        day=dt.date.today(),
        scope_path=scope,
        within_path=within_path,
        category=category.value if category else None,
        vacant=vacant,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["org_path"], str(rows[-1]["id"])]) if more else None,
    }


@router.get("/{post_id}", response_model=PostRead, operation_id="get_post")
async def get_post(
    post_id: Annotated[uuid.UUID, Path()],
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = service.to_read(await service.visible(session, principal, post_id, dt.date.today()))
    set_etag(response, read["version"])
    return read
