"""The caller's subtree where the projection is kept: the organization of ``org_scope`` and below."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.orgtree import repository as repo

NOWHERE = "/~/"  # a path no organization has: the scope of a token whose organization is unknown here


async def scope_path(session: AsyncSession, principal: Principal) -> str | None:
    """The caller's subtree (None: the whole province)."""
    if principal.org_scope is None:
        return None
    row = await repo.by_id(session, principal.org_scope)
    return row["path"] if row is not None else NOWHERE


def within(path: str, scope: str | None) -> bool:
    return scope is None or path.startswith(scope)
