"""HTTP endpoints of cadres."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.cadres.cadres import repository as repo
from services.cadres.cadres import service
from services.cadres.cadres.schemas import CadreCreate, CadrePage, CadreRead, CadreStatus, CadreUpdate
from shared.auth import CurrentPrincipal, Principal
from shared.db import Database
from shared.etag import check_if_match, set_etag
from shared.logs import request_id_var
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.text import like_pattern
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/cadres", tags=["cadres"], route_class=UnitOfWorkRoute)
CadreId = Annotated[uuid.UUID, Path(description="cadre id")]


@router.post("", status_code=201, response_model=CadreRead, operation_id="register_cadre")
async def register(
    body: CadreCreate, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Register a cadre in a home organization (one cadres may not have seen yet is looked up in orgs)."""
    read = await service.register(session, request, principal, body)
    response.headers["Location"] = f"/v1/cadres/{read['id']}"
    set_etag(response, read["version"])
    return read


@router.get("", response_model=CadrePage, operation_id="list_cadres")
async def list_cadres(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    within: Annotated[uuid.UUID | None, Query(description="home organization in this subtree")] = None,
    status: CadreStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name, diacritics optional")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Cadres in scope, ordered Vietnamese-style (given name, then full name); no sensitive fields."""
    after = decode_cursor(cursor)
    rows = await service.list_(
        session,
        principal,
        request,
        within_org=within,
        status=status.value if status else None,
        q_pattern=like_pattern(q) if q else None,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r, sensitive=False) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["sort_key"], str(rows[-1]["id"])]) if more else None,
    }


@router.get("/{cadre_id}", response_model=CadreRead, operation_id="get_cadre")
async def get_cadre(
    cadre_id: CadreId, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """One cadre; ``national_id`` only for admin, vetting and personnel, and each such read is audited."""
    read, sensitive = await service.get(session, principal, cadre_id)
    if sensitive:
        await audit_sensitive_read(request, principal, cadre_id)
    set_etag(response, read["version"])
    return read


async def audit_sensitive_read(request: Request, principal: Principal, cadre_id: uuid.UUID) -> None:
    """Record that the caller was answered the cadre's sensitive fields.

    A read answers from a read-only unit of work: the audit row gets its own transaction, committed before
    the answer leaves."""
    db: Database = request.app.state.db
    async with db.transaction() as audit:
        await repo.record_sensitive_read(
            audit,
            sub=principal.sub,
            roles=sorted(principal.roles),
            cadre_id=cadre_id,
            fields=list(service.SENSITIVE_FIELDS),
            request_id=request_id_var.get(),
        )


@router.patch("/{cadre_id}", response_model=CadreRead, operation_id="amend_cadre")
async def amend(
    cadre_id: CadreId,
    body: CadreUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = await service.amend(
        session, request, principal, cadre_id, body, lambda v: check_if_match(request, v)
    )
    set_etag(response, read["version"])
    return read
