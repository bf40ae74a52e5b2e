"""Cadres: register, read, amend — scoped by the home organization's subtree."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres import events
from services.cadres.cadres import repository as repo
from services.cadres.cadres.schemas import CadreCreate, CadreUpdate
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Problem, Unprocessable
from shared.text import normalize, vietnamese_sort_key

WRITE_ROLES = ("personnel",)
SENSITIVE_ROLES = ("vetting", "personnel")  # and admin
SENSITIVE_FIELDS = ("national_id",)


def to_read(row: RowMapping | dict[str, Any], *, sensitive: bool) -> dict[str, Any]:
    read = {
        "id": str(row["id"]), "full_name": row["full_name"], "birth_date": row["birth_date"].isoformat(),
        "gender": row["gender"], "org_id": str(row["org_id"]), "org_name": row["org_name"],
        "education": row["education"], "declared_theory_level": row["declared_theory_level"],
        "member_id": str(row["member_id"]) if row["member_id"] else None, "status": row["status"],
        "version": row["version"],
    }  # fmt: skip
    if sensitive:
        read["national_id"] = row["national_id"]
    return read


async def _visible(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> RowMapping:
    row = await repo.get(session, cadre_id)
    scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("cadre", f"No cadre {cadre_id}.")
    return row


async def _org_in_scope(
    session: AsyncSession, request: Request, principal: Principal, org_id: uuid.UUID
) -> Any:
    org = await require_org(session, request, org_id)
    if not within(org["path"], await scope_path(session, principal)):
        raise Problem(403, "The organization is outside your scope.", slug="forbidden")
    if org["status"] != "active":
        raise Unprocessable(
            f"Organization {org['code']} is no longer active.", slug="organization-not-active"
        )
    return org


async def register(
    session: AsyncSession, request: Request, principal: Principal, body: CadreCreate
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="register cadres")
    org = await _org_in_scope(session, request, principal, body.org_id)
    cadre_id = uuid.uuid4()
    row = {
        "id": cadre_id,
        "full_name": body.full_name,
        "birth_date": body.birth_date,
        "gender": body.gender.value,
        "national_id": body.national_id,
        "member_id": body.member_id,
        "education": body.education.value,
        "declared_theory_level": body.declared_theory_level.value,
        "status": "active",
        "org_id": body.org_id,
        "version": 1,
    }
    await repo.insert_cadre(
        session,
        **row,
        name_search=normalize(body.full_name),
        sort_key=vietnamese_sort_key(body.full_name),
    )
    after = body.model_dump(mode="json", exclude={"national_id"})
    await repo.record_change(
        session,
        cadre_id=cadre_id,
        sequence=1,
        change="registered",
        before=None,
        after=after,
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await events.registered(
        session,
        cadre_id=cadre_id,
        sequence=1,
        org_id=body.org_id,
        member_id=body.member_id,
        full_name=body.full_name,
        gender=body.gender.value,
        birth_date=body.birth_date,
        education=body.education.value,
        declared_theory_level=body.declared_theory_level.value,
    )
    # The answer is the row just inserted with its organization's name (in scope: checked above), as reading
    # it back would give — without the query.
    return to_read({**row, "org_name": org["name"]}, sensitive=principal.has_any(*SENSITIVE_ROLES))


async def get(
    session: AsyncSession, principal: Principal, cadre_id: uuid.UUID
) -> tuple[dict[str, Any], bool]:
    """The cadre; and whether sensitive fields were included (the caller records that read)."""
    row = await _visible(session, principal, cadre_id)
    sensitive = principal.has_any(*SENSITIVE_ROLES)
    return to_read(row, sensitive=sensitive), sensitive and row["national_id"] is not None


async def amend(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    cadre_id: uuid.UUID,
    body: CadreUpdate,
    check_version: Callable[[int], None],
) -> dict[str, Any]:
    row = await _visible(session, principal, cadre_id)
    require_role(principal, *WRITE_ROLES, action="amend cadres")
    check_version(row["version"])
    wanted = body.model_dump(mode="json", exclude_unset=True)
    if "org_id" in wanted and wanted["org_id"] is not None:
        await _org_in_scope(session, request, principal, uuid.UUID(wanted["org_id"]))
    before: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for field, value in wanted.items():
        current = row[field]
        current = str(current) if isinstance(current, uuid.UUID) else current
        if value != current:
            before[field], changes[field] = current, value
    if not changes:
        raise Unprocessable("Nothing changes: every given field already has that value.", slug="no-change")
    values: dict[str, Any] = {
        k: (uuid.UUID(v) if k in ("org_id", "member_id") and v else v) for k, v in changes.items()
    }
    if "full_name" in values:
        values.update(
            name_search=normalize(values["full_name"]), sort_key=vietnamese_sort_key(values["full_name"])
        )
    sequence = await repo.update_cadre(session, cadre_id, **values)
    hidden = {k: "…" for k in SENSITIVE_FIELDS}
    await repo.record_change(
        session,
        cadre_id=cadre_id,
        sequence=sequence,
        change="updated",
        before={**before, **{k: v for k, v in hidden.items() if k in before}},
        after={**changes, **{k: v for k, v in hidden.items() if k in changes}},
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await events.updated(session, cadre_id=cadre_id, sequence=sequence, changes=changes)
    return to_read(
        await _visible(session, principal, cadre_id), sensitive=principal.has_any(*SENSITIVE_ROLES)
    )


async def list_(
    session: AsyncSession,
    principal: Principal,
    request: Request,
    *,
    within_org: uuid.UUID | None,
    status: str | None,
    q_pattern: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    scope = await scope_path(session, principal)
    within_path = None
    if within_org is not None:
        org = await require_org(session, request, within_org)
        if not within(org["path"], scope):
            raise NotFound("organization", f"No organization {within_org}.")
        within_path = org["path"]
    return await repo.list_rows(
        session,
        scope_path=scope,
        within_path=within_path,
        status=status,
        q_pattern=q_pattern,
        after=after,
        limit=limit,
    )
