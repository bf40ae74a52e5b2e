"""``GET /v1/training-needs``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from services.training.enrollments.service import within_path_of
from services.training.levels import theory_name
from services.training.needs import repository as repo
from services.training.qualifications.router import AttainedLevel
from shared.auth import CurrentPrincipal
from shared.orgtree.scope import scope_path
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/training-needs", tags=["training needs"], route_class=UnitOfWorkRoute)

PostCategory = Literal[
    "secretary",
    "deputy_secretary",
    "standing_member",
    "executive_member",
    "inspection_chair",
    "head",
    "deputy_head",
    "chair",
    "vice_chair",
    "other",
]


class NeedPost(BaseModel):
    post_id: uuid.UUID
    title: str
    category: str
    org_id: uuid.UUID
    relation: Literal["held", "planned"]
    required_theory_level: AttainedLevel


class Need(BaseModel):
    cadre_id: uuid.UUID
    full_name: str
    org_id: uuid.UUID | None
    attained_theory_level: AttainedLevel
    required_theory_level: AttainedLevel
    posts: list[NeedPost]


class NeedPage(BaseModel):
    items: list[Need]
    next_cursor: str | None = None


@router.get("", response_model=NeedPage, operation_id="list_training_needs")
async def list_needs(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    within_org: Annotated[
        uuid.UUID | None, Query(alias="within", description="the post's organization in this subtree")
    ] = None,
    post_category: PostCategory | None = None,
    cadre_id: uuid.UUID | None = None,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Cadres who on ``as_of`` hold, or are planned for, a post whose required theory level is above the level
    they attained by then. ``within`` and your scope apply to the post's organization.

    Ordered Vietnamese-style by the cadre's name (given name first), then id; each cadre's posts by required
    level (highest first), relation, title. ``org_id`` is the cadre's home organization;
    ``required_theory_level`` the highest of the posts'."""
    day = as_of or dt.date.today()
    scope = await scope_path(session, principal)
    within_path = await within_path_of(session, request, scope, within_org)
    after = decode_cursor(cursor)
    rows = await repo.page(
        session,
        day=day,
        paths=[p for p in (scope, within_path) if p is not None],
        post_category=post_category,
        cadre_id=cadre_id,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    items, keys = to_items(rows)
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(keys[limit - 1]) if more else None}


def to_items(rows: list[Any]) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """The page's rows (one per cadre and post, ordered by cadre) as one item per cadre with their posts, and
    each item's cursor key."""
    items: list[dict[str, Any]] = []
    keys: list[list[str]] = []
    for row in rows:
        if not items or items[-1]["cadre_id"] != str(row["cadre_id"]):
            attained = max(int(row["declared_rank"]), int(row["course_rank"]))
            items.append(
                {
                    "cadre_id": str(row["cadre_id"]),
                    "full_name": row["full_name"],
                    "org_id": str(row["org_id"]) if row["org_id"] else None,
                    "attained_theory_level": theory_name(attained),
                    "required_theory_level": row["required_theory_level"],
                    "posts": [],
                }
            )
            keys.append([row["sort_key"], str(row["cadre_id"])])
        items[-1]["posts"].append(
            {
                "post_id": str(row["post_id"]),
                "title": row["title"],
                "category": row["category"],
                "org_id": str(row["post_org_id"]),
                "relation": row["relation"],
                "required_theory_level": row["required_theory_level"],
            }
        )
    return items, keys
