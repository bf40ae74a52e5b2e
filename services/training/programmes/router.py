"""HTTP endpoints of programmes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.training.programmes import repository as repo
from services.training.programmes import service
from services.training.programmes.schemas import ProgrammeCreate, ProgrammeKind, ProgrammePage, ProgrammeRead
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/programmes", tags=["programmes"], route_class=UnitOfWorkRoute)


@router.post("", status_code=201, response_model=ProgrammeRead, operation_id="define_programme")
async def define(
    body: ProgrammeCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Add a programme to the catalogue (``trainer``); a political theory programme names its level."""
    read = await service.create(session, principal, body)
    response.headers["Location"] = f"/v1/programmes/{read['id']}"
    set_etag(response, read["version"])
    return read


@router.get("", response_model=ProgrammePage, operation_id="list_programmes")
async def list_programmes(
    session: SessionDep,
    principal: CurrentPrincipal,
    kind: ProgrammeKind | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The catalogue, ordered by code (then id)."""
    after = decode_cursor(cursor)
    rows = await repo.list_rows(
        session,
        kind=kind.value if kind else None,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["code"], str(rows[-1]["id"])]) if more else None,
    }


@router.get("/{programme_id}", response_model=ProgrammeRead, operation_id="get_programme")
async def get_programme(
    programme_id: Annotated[uuid.UUID, Path()],
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = service.to_read(await service.get(session, programme_id))
    set_etag(response, read["version"])
    return read
