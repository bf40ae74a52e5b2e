"""HTTP endpoints of the documents register: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.orgs.documents import service
from services.orgs.documents.schemas import DocumentCreate, DocumentKind, DocumentPage, DocumentRead
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.problems import Problem
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/documents", tags=["documents"], route_class=UnitOfWorkRoute)

DocumentId = Annotated[uuid.UUID, Path(description="document id")]
VERSION = 1  # a registered document never changes


def _after(cursor: str | None) -> tuple[dt.date, str, uuid.UUID] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        return dt.date.fromisoformat(str(key[0])), str(key[1]), uuid.UUID(str(key[2]))
    except (IndexError, ValueError) as exc:
        raise Problem(422, "The cursor is not one this service issued.", slug="invalid-cursor") from exc


@router.post("", status_code=201, response_model=DocumentRead, operation_id="register_document")
async def register(
    body: DocumentCreate, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Add a document to the register; its number is unique per issuer (409 otherwise)."""
    read = await service.register(session, principal, body)
    response.headers["Location"] = f"/v1/documents/{read['id']}"
    set_etag(response, VERSION)
    return read


@router.get("", response_model=DocumentPage, operation_id="list_documents")
async def list_documents(
    session: SessionDep,
    principal: CurrentPrincipal,
    kind: DocumentKind | None = None,
    from_: Annotated[dt.date | None, Query(alias="from", description="issued on or after")] = None,
    to: Annotated[dt.date | None, Query(description="issued on or before")] = None,
    within: Annotated[
        uuid.UUID | None, Query(description="issued by this organization or one under it (when issued)")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Documents ordered by ``issued_on`` (latest first), then number."""
    if from_ is not None and to is not None and to < from_:
        raise Problem(422, "`to` is before `from`.", slug="invalid-period")
    items = await service.list_(
        session,
        principal,
        kind=kind.value if kind else None,
        start=from_,
        end=to,
        within=within,
        after=_after(cursor),
        limit=limit,
    )
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    next_cursor = encode_cursor([last["issued_on"], last["number"], last["id"]]) if more and last else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{document_id}", response_model=DocumentRead, operation_id="get_document")
async def get_document(
    document_id: DocumentId, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    set_etag(response, VERSION)
    return await service.get(session, principal, document_id)
