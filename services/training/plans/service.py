"""Annual training plans: a target per year, organization and programme, reported against enrollments.

``enrolled`` counts the distinct cadres the organization itself sent (``sent_by_org_id``, not its subtree) to
courses of the programme with ``sent_on`` in the year, not withdrawn; ``completed`` those of them whose
enrollment is completed. Trainers set targets for organizations in their subtree (403 outside it). Setting
a target records no event (none is in the catalogue).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.plans import repository as repo
from services.training.programmes import repository as programmes_repo
from shared.auth import Principal, require_role
from shared.etag import check_if_match
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Problem

WRITE_ROLES = ("trainer",)


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "year": row["year"],
        "org_id": str(row["org_id"]),
        "org_name": row["org_name"],
        "programme_id": str(row["programme_id"]),
        "programme_code": row["programme_code"],
        "programme_name": row["programme_name"],
        "target": row["target"],
        "enrolled": int(row["enrolled"] or 0),
        "completed": int(row["completed"] or 0),
        "version": row["version"],
    }


async def put(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    year: int,
    org_id: uuid.UUID,
    programme_id: uuid.UUID,
    target: int,
) -> tuple[dict[str, Any], bool]:
    """Set the target; the plan and whether it was created."""
    require_role(principal, *WRITE_ROLES, action="set training plans")
    org = await require_org(session, request, org_id)
    if not within(org["path"], await scope_path(session, principal)):
        raise Problem(403, "The organization is outside your scope.", slug="forbidden")
    if await programmes_repo.get(session, programme_id) is None:
        raise NotFound("programme", f"No programme {programme_id}.")
    version = await repo.current_version(session, year, org_id, programme_id)
    if version is None:
        if request.headers.get("if-match") is not None:
            raise Problem(412, "There is no plan yet to match.", slug="stale-version")
        try:
            async with session.begin_nested():
                await repo.insert_plan(
                    session,
                    year=year,
                    org_id=org_id,
                    programme_id=programme_id,
                    target=target,
                    updated_by=principal.sub,
                )
        except IntegrityError as exc:  # a concurrent request created it first
            raise Problem(
                412, "The plan was created meanwhile; read it again.", slug="stale-version"
            ) from exc
        created = True
    else:
        check_if_match(request, version)
        if not await repo.update_plan(
            session, year, org_id, programme_id, version, target=target, updated_by=principal.sub
        ):
            raise Problem(412, "The plan changed meanwhile; read it again.", slug="stale-version")
        created = False
    row = await repo.get(session, year, org_id, programme_id)
    assert row is not None
    return to_read(row), created
