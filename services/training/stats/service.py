"""The ``training`` section of the sector report (api.md, "The sector report").

* ``cadres_sent_by_theory_level`` and ``cadres_sent_by_programme_kind``: enrollments with ``sent_on`` in the
  period (both ends included), whatever their status now (they were sent), distinct cadres per key; the level
  is that of political theory programmes (other kinds have none).
* ``completed_by_theory_level``: enrollments completed (status ``completed``) with ``completed_on`` in the
  period, distinct cadres per level.
* ``within`` (default: the caller's scope) restricts to enrollments whose sending organization lies in the
  subtree (the tree as it stands now).

The whole country reads ``enrollments`` alone through the covering index on ``sent_on`` (and the partial
index of completions on ``completed_on``); a subtree joins the sending organization's path.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.enrollments.models import Enrollment
from shared.auth import Principal
from shared.orgtree.directory import require_org
from shared.orgtree.models import ProjectedOrganization
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Unprocessable
from shared.tree import in_subtree

E = Enrollment.__table__
P = ProjectedOrganization.__table__


def _in_subtree(stmt: Any, subtree: str | None) -> Any:
    if subtree is None:
        return stmt
    return stmt.join(P, P.c.id == E.c.sent_by_org_id).where(in_subtree(P.c.path, subtree))


async def _distinct_cadres(
    session: AsyncSession, key: Any, *where: Any, subtree: str | None
) -> dict[str, int]:
    stmt = _in_subtree(
        select(key, func.count(distinct(E.c.cadre_id))).select_from(E).where(key.is_not(None), *where),
        subtree,
    ).group_by(key)
    return {str(k): int(n) for k, n in sorted((await session.execute(stmt)).all())}


async def training(
    session: AsyncSession, *, start: dt.date, end: dt.date, subtree: str | None
) -> dict[str, Any]:
    sent = E.c.sent_on.between(start, end)
    completed = (E.c.status == "completed", E.c.completed_on.between(start, end))
    return {
        "cadres_sent_by_theory_level": await _distinct_cadres(
            session, E.c.theory_level, sent, subtree=subtree
        ),
        "cadres_sent_by_programme_kind": await _distinct_cadres(
            session, E.c.programme_kind, sent, subtree=subtree
        ),
        "completed_by_theory_level": await _distinct_cadres(
            session, E.c.theory_level, *completed, subtree=subtree
        ),
    }


async def sector(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    start: dt.date,
    end: dt.date,
    within_org: uuid.UUID | None,
) -> dict[str, Any]:
    if start > end:
        raise Unprocessable("`from` must not be after `to`.", slug="dates-out-of-order")
    scope = await scope_path(session, principal)
    root_id = within_org or principal.org_scope
    subtree, name = scope, None
    if root_id is not None:
        org = await require_org(session, request, root_id)
        if not within(org["path"], scope):
            raise NotFound("organization", f"No organization {root_id}.")
        subtree, name = org["path"], org["name"]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": {"id": str(root_id) if root_id else None, "name": name},
        "training": await training(session, start=start, end=end, subtree=subtree),
    }
