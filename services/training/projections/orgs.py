"""Organization events for training: the shared organization projection, and the path posts copy from it.

``post_projection.org_path`` is the path of the post's organization (``services.training.projections.models
.ProjectedPost``). The shared handler keeps the organization projection; around it:

* ``established``: the organization's posts defined before it arrived (path null) take its path;
* ``moved``: the shared handler rewrites the path prefix of the moved subtree's organizations; the posts of
  that subtree get the same rewrite (one range of ``ix_post_projection_org_path``: as many rows as the
  subtree has posts — ~2,500 for an upper committee — in the event's transaction).

Other events change no path. A post whose organization is looked up over HTTP before its event keeps a null
path until that event: the needs query reads the organization's path for such posts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.projections.models import ProjectedPost
from shared.cloudevents import CloudEvent
from shared.orgtree import handlers as orgtree_handlers
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

ORG_EVENTS = orgtree_handlers.ORG_EVENTS
PREFIX = "vn.tochuc.orgs.organization."

T = ProjectedPost.__table__
P = ProjectedOrganization.__table__

_PLACE = (
    update(T)
    .where(T.c.org_id == bindparam("b_org_id"), T.c.org_path.is_(None))
    .values(org_path=select(P.c.path).where(P.c.id == bindparam("b_org_id")).scalar_subquery())
)


async def _path(session: AsyncSession, org_id: uuid.UUID) -> str | None:
    return (await session.execute(select(P.c.path).where(P.c.id == org_id))).scalar_one_or_none()


async def org_path(session: AsyncSession, org_id: uuid.UUID) -> str | None:
    """The organization's path in the projection (None: not there yet), for a post to copy.

    The row is share-locked (PostgreSQL) until the post's transaction ends: a move running concurrently (the
    organizations' consumer) either has rewritten the row already — the lock waits for it to commit and reads
    the new path — or waits for the post to be committed before it rewrites the subtree's posts, this one
    included. Without the lock a post could copy the path a move is replacing and keep it."""
    stmt = select(P.c.path).where(P.c.id == org_id).with_for_update(read=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def rehome_posts(session: AsyncSession, old: str, new: str) -> None:
    """The posts under ``old`` (a subtree's path) move under ``new``: rewrite their path prefix."""
    await session.execute(
        update(T)
        .where(in_subtree(T.c.org_path, old))
        .values(org_path=literal(new) + func.substr(T.c.org_path, len(old) + 1))
    )


async def apply_org_event(session: AsyncSession, event: CloudEvent) -> None:
    """The shared organization handler, then the paths of the posts it concerns."""
    name = event.type.removeprefix(PREFIX).removesuffix(".v1")
    data: dict[str, Any] = event.data or {}
    before = None
    if name == "moved":
        before = await _path(session, uuid.UUID(data["id"]))
    await orgtree_handlers.apply_org_event(session, event)
    if name == "established":
        await session.execute(_PLACE, {"b_org_id": uuid.UUID(data["id"])})
    elif name == "moved" and before is not None:
        after = await _path(session, uuid.UUID(data["id"]))
        if after is not None and after != before:
            await rehome_posts(session, before, after)
