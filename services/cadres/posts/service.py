"""Posts: define them in an organization of the caller's subtree; read them with their holders."""

from __future__ import annotations

import datetime as dt
import uuid
from types import EllipsisType
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.posts import repository as repo
from services.cadres.posts.schemas import PostCreate
from shared.auth import Principal, require_role
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.outbox import record_event
from shared.problems import NotFound, Problem, Unprocessable

WRITE_ROLES = ("personnel",)


def to_read(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "org_id": str(row["org_id"]), "org_name": row["org_name"],
        "title": row["title"],
        "category": row["category"], "seats": row["seats"],
        "requirements": {"theory_level": row["required_theory_level"],
                         "min_years_in_prior_post": row["min_years_in_prior_post"]},
        "holders": row["holders"], "vacant": max(row["seats"] - row["holders"], 0), "version": row["version"],
    }  # fmt: skip


async def visible(
    session: AsyncSession,
    principal: Principal,
    post_id: uuid.UUID,
    day: dt.date,
    *,
    scope: str | EllipsisType | None = ...,
) -> RowMapping:
    """The post with its holders on the day; 404 outside the caller's subtree (``scope``: the caller's
    ``scope_path`` when the request already read it)."""
    row = await repo.get(session, post_id, day)
    if scope is ...:
        scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("post", f"No post {post_id}.")
    return row


async def define(
    session: AsyncSession, request: Request, principal: Principal, body: PostCreate
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="define posts")
    org = await require_org(session, request, body.org_id)
    if not within(org["path"], await scope_path(session, principal)):
        raise Problem(403, "The organization is outside your scope.", slug="forbidden")
    if org["status"] != "active":
        raise Unprocessable(
            f"Organization {org['code']} is no longer active.", slug="organization-not-active"
        )
    post_id = uuid.uuid4()
    requirements = body.requirements.model_dump(mode="json")
    row = {
        "id": post_id,
        "org_id": body.org_id,
        "title": body.title.strip(),
        "category": body.category.value,
        "seats": body.seats,
        "required_theory_level": requirements["theory_level"],
        "min_years_in_prior_post": requirements["min_years_in_prior_post"],
        "version": 1,
    }
    await repo.insert_post(session, **row)
    await record_event(
        session,
        service="cadres",
        type="cadres.post.defined.v1",
        subject=str(post_id),
        sequence=1,
        data={
            "id": str(post_id),
            "org_id": str(body.org_id),
            "title": body.title.strip(),
            "category": body.category.value,
            "seats": body.seats,
            "requirements": requirements,
        },
    )
    # The answer is the row just inserted, in scope (checked above), with its organization's name and no
    # holder yet (no assignment can name a new id), as reading it back would give — without the query.
    return to_read({**row, "org_name": org["name"], "holders": 0})
