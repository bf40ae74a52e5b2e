"""HTTP endpoints of disciplinary measures (under the cadre)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.cadres.disciplines import service
from services.cadres.disciplines.schemas import DisciplineCreate, DisciplinePage, DisciplineRead
from shared.auth import CurrentPrincipal
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/cadres", tags=["disciplines"], route_class=UnitOfWorkRoute)
CadreId = Annotated[uuid.UUID, Path(description="cadre id")]


@router.post(
    "/{cadre_id}/disciplines",
    status_code=201,
    response_model=DisciplineRead,
    operation_id="record_discipline",
)
async def record(
    cadre_id: CadreId,
    body: DisciplineCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Record a disciplinary measure; the cadre leaves every plan entry on ``decided_on``."""
    read = await service.record(session, principal, request.app.state.rulebook, cadre_id, body)
    response.headers["Location"] = f"/v1/cadres/{cadre_id}/disciplines/{read['id']}"
    return read


@router.get("/{cadre_id}/disciplines", response_model=DisciplinePage, operation_id="list_disciplines")
async def list_disciplines(
    cadre_id: CadreId,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The cadre's disciplinary measures, oldest decision first."""
    after = decode_cursor(cursor)
    rows = await service.of_cadre(
        session, principal, cadre_id, after=(str(after[0]), str(after[1])) if after else None, limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["decided_on"].isoformat(), str(rows[-1]["id"])])
        if more
        else None,
    }


@router.get(
    "/{cadre_id}/disciplines/{discipline_id}", response_model=DisciplineRead, operation_id="get_discipline"
)
async def get_discipline(
    cadre_id: CadreId,
    discipline_id: Annotated[uuid.UUID, Path()],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    return service.to_read(await service.one(session, principal, cadre_id, discipline_id))
