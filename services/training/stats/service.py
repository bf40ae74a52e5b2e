"""The ``training`` section of the sector report (api.md, "The sector report").

* ``cadres_sent_by_theory_level`` and ``cadres_sent_by_programme_kind``: enrollments with ``sent_on`` in the
  period (both ends included), whatever their status now (they were sent), distinct cadres per key; the level
  is that of political theory programmes (other kinds have none).
* ``completed_by_theory_level``: enrollments completed (status ``completed``) with ``completed_on`` in the
  period, distinct cadres per level.
* ``within`` (default: the caller's scope) restricts to enrollments whose sending organization lies in the
  subtree (the tree as it stands now).

The whole country reads ``enrollments`` alone through the covering index on ``sent_on`` (and the partial
index of completions on ``completed_on``), one query per figure. A subtree reads its organizations (a range of
paths), then each organization's enrollments through ``ix_enrollments_org_sent_cover`` — on PostgreSQL it
covers every column the figures need, so no table page is read — in a single pass: the rows sent or completed
in the period are gathered once (a CTE) and the three figures counted from them. At national scale one upper
committee (~9,000 organizations) is ~9,000 index probes, where joining by the organizations hashed every
enrollment of the period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import and_, case, distinct, func, literal, or_, select, union_all
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


FIGURES = ("cadres_sent_by_theory_level", "cadres_sent_by_programme_kind", "completed_by_theory_level")


async def _distinct_cadres(session: AsyncSession, key: Any, *where: Any) -> dict[str, int]:
    stmt = select(key, func.count(distinct(E.c.cadre_id))).where(key.is_not(None), *where).group_by(key)
    return {str(k): int(n) for k, n in sorted((await session.execute(stmt)).all())}


async def _subtree(session: AsyncSession, *, start: dt.date, end: dt.date, subtree: str) -> dict[str, Any]:
    """The three figures of a subtree in one statement: its organizations, then their enrollments by
    ``(sent_by_org_id, …)``, the rows of the period gathered once."""
    sent = E.c.sent_on.between(start, end)
    completed = and_(E.c.status == "completed", E.c.completed_on.between(start, end))
    rows = (
        select(
            E.c.cadre_id,
            E.c.programme_kind,
            E.c.theory_level,
            case((sent, 1), else_=0).label("sent"),
            case((completed, 1), else_=0).label("completed"),
        )
        .select_from(P)
        .join(E, E.c.sent_by_org_id == P.c.id)
        .where(in_subtree(P.c.path, subtree), or_(sent, completed))
        .cte("period_rows")
    )
    parts = [
        select(literal(figure).label("figure"), key.label("key"), func.count(distinct(rows.c.cadre_id)))
        .where(key.is_not(None), flag == 1)
        .group_by(key)
        for figure, key, flag in (
            (FIGURES[0], rows.c.theory_level, rows.c.sent),
            (FIGURES[1], rows.c.programme_kind, rows.c.sent),
            (FIGURES[2], rows.c.theory_level, rows.c.completed),
        )
    ]
    result: dict[str, dict[str, int]] = {figure: {} for figure in FIGURES}
    for figure, key, n in sorted((await session.execute(union_all(*parts))).all()):
        result[figure][str(key)] = int(n)
    return result


async def training(
    session: AsyncSession, *, start: dt.date, end: dt.date, subtree: str | None
) -> dict[str, Any]:
    if subtree is not None:
        return await _subtree(session, start=start, end=end, subtree=subtree)
    sent = E.c.sent_on.between(start, end)
    completed = (E.c.status == "completed", E.c.completed_on.between(start, end))
    return {
        "cadres_sent_by_theory_level": await _distinct_cadres(session, E.c.theory_level, sent),
        "cadres_sent_by_programme_kind": await _distinct_cadres(session, E.c.programme_kind, sent),
        "completed_by_theory_level": await _distinct_cadres(session, E.c.theory_level, *completed),
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
