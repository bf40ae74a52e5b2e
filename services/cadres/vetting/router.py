"""HTTP endpoints of vetting records (under the cadre); for the ``vetting`` role only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.cadres.vetting import service
from services.cadres.vetting.schemas import VettingRecordCreate, VettingRecordList, VettingRecordWritten
from shared.auth import CurrentPrincipal
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/cadres", tags=["vetting"], route_class=UnitOfWorkRoute)
CadreId = Annotated[uuid.UUID, Path(description="cadre id")]


@router.post(
    "/{cadre_id}/vetting-records",
    status_code=201,
    response_model=VettingRecordWritten,
    operation_id="write_vetting_record",
)
async def write(
    cadre_id: CadreId,
    body: VettingRecordCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Record a vetting finding (encrypted at rest; audited). The answer carries no content."""
    written = await service.write(session, request.app.state.vetting_cipher, principal, cadre_id, body)
    response.headers["Location"] = f"/v1/cadres/{cadre_id}/vetting-records"
    return written


@router.get(
    "/{cadre_id}/vetting-records", response_model=VettingRecordList, operation_id="read_vetting_records"
)
async def read(
    cadre_id: CadreId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The cadre's vetting records, oldest first; the read is audited before the answer leaves."""
    items = await service.read(
        session, request.app.state.db, request.app.state.vetting_cipher, principal, cadre_id
    )
    return {"items": items, "next_cursor": None}
