"""The rules of the documents register. Functions take the session and never commit.

Who sees a document: everyone in scope of its issuer, and those below the issuer (a directive of the
Provincial Committee applies to every organization under it); documents without an issuer are the
register's own and visible to all. Who registers one: an organizer whose scope holds the issuer; without an
issuer, only a province-wide organizer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.documents import events
from services.orgs.documents import repository as repo
from services.orgs.documents.schemas import DocumentCreate
from services.orgs.organizations import repository as org_repo
from services.orgs.organizations.service import WRITE_ROLES, _visible, scope_path, within_scope
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.problems import NotFound, Problem, Unprocessable


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "number": row["number"],
        "kind": row["kind"],
        "title": row["title"],
        "issued_on": row["issued_on"].isoformat(),
        "issuer_org_id": str(row["issuer_org_id"]) if row["issuer_org_id"] else None,
        "recorded_at": row["recorded_at"],
    }


async def _seen(session: AsyncSession, row: RowMapping, scope: str | None) -> bool:
    if scope is None or row["issuer_node"] is None:
        return True
    issuer = await org_repo.current_row(session, row["issuer_node"])
    return issuer is not None and (within_scope(issuer["path"], scope) or scope.startswith(issuer["path"]))


async def get(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.row(session, document_id)
    if row is None or not await _seen(session, row, await scope_path(session, principal)):
        raise NotFound("document", f"No document {document_id}.")
    return to_read(row)


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str | None,
    start: dt.date | None,
    end: dt.date | None,
    within: uuid.UUID | None,
    after: tuple[dt.date, str, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    scope = await scope_path(session, principal)
    within_path = None
    if within is not None:
        ident, _ = await _visible(session, principal, within)
        within_path = await org_repo.current_path(session, ident["id"])
    rows = await repo.list_rows(
        session,
        kind=kind,
        start=start,
        end=end,
        within_path=within_path,
        scope_path=scope,
        after=after,
        limit=limit,
    )
    return [to_read(r) for r in rows]


async def register(session: AsyncSession, principal: Principal, body: DocumentCreate) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="register documents")
    scope = await scope_path(session, principal)
    issuer_node = None
    if body.issuer_org_id is None:
        if scope is not None:
            raise Problem(
                403, "Only a province-wide role may register a document without an issuer.", slug="forbidden"
            )
    else:
        ident = await org_repo.identity_with_current_path(session, body.issuer_org_id)  # one query
        if ident is None:
            raise Unprocessable(
                f"No organization {body.issuer_org_id} (the issuer).", slug="unknown-organization"
            )
        if not within_scope(ident["current_path"], scope):
            raise Problem(403, "The issuing organization is outside your scope.", slug="forbidden")
        issuer = await org_repo.row_at(session, ident["node"], body.issued_on)
        if issuer is None or issuer["status"] != "active":
            raise Unprocessable(
                f"Organization {ident['code']} was not active on {body.issued_on.isoformat()}, "
                "the date the document was issued.",
                slug="issuer-not-active",
            )
        issuer_node = ident["node"]
    if await repo.number_taken(session, issuer_node, body.number):
        raise Problem(
            409, f"The number {body.number} is already registered for this issuer.", slug="duplicate-number"
        )
    document_id = uuid.uuid4()
    await repo.insert_document(
        session,
        id=document_id,
        number=body.number,
        kind=body.kind.value,
        title=body.title,
        issued_on=body.issued_on,
        issuer_node=issuer_node,
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await events.registered(
        session,
        document_id=document_id,
        number=body.number,
        kind=body.kind.value,
        title=body.title,
        issued_on=body.issued_on,
    )
    return await get(session, principal, document_id)
