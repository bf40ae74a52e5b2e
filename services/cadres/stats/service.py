"""The personnel, payroll and planning sections of the sector report (api.md, "The sector report").

* personnel: decisions with ``decided_on`` in the period (both ends included). A decision belongs to the
  subtree of its organization: the target post's organization, else ``to_org_id``, else ``from_org_id``, else
  the cadre's home organization (as the tree stands now). ``actions_by_kind`` counts decisions,
  ``cadres_by_kind`` distinct cadres per kind, ``cadres_moved_or_appointed`` distinct cadres over transfer,
  rotation, secondment, arrangement, appointment and reappointment.
* payroll: the streamlining of each category, baseline 2021 unless ``baseline_year``; ``year`` = the year of
  ``to``.
* planning: as of ``to``, the planning term in force then (the five-year term that contains it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import distinct, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres.models import Cadre
from services.cadres.payroll.service import streamlining
from services.cadres.personnel.models import PersonnelAction
from services.cadres.planning.service import coverage_totals, default_term
from services.cadres.posts.models import Post
from shared.auth import Principal
from shared.db import Database
from shared.orgtree.directory import require_org
from shared.orgtree.models import ProjectedOrganization
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Unprocessable
from shared.rulebook import Rulebook
from shared.tree import in_subtree

MOVED_OR_APPOINTED = ("transfer", "rotation", "secondment", "arrangement", "appointment", "reappointment")

A = PersonnelAction.__table__
T = Post.__table__
K = Cadre.__table__
P = ProjectedOrganization.__table__
REPORT_SETTINGS = text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")


async def personnel(
    session: AsyncSession, *, start: dt.date, end: dt.date, subtree: str | None
) -> dict[str, Any]:
    """One statement: per kind the decisions and distinct cadres, and one row (``moved`` = 1) with the
    distinct cadres moved or appointed, both over the same decisions (a CTE, read once on PostgreSQL).

    The whole country reads ``personnel_actions`` alone (every decision has a cadre; no organization is
    needed), from the covering index on ``decided_on``. A subtree needs the post's organization, and the
    cadre's home organization only when neither a post's nor a named organization is found: a lookup by
    primary key that ``COALESCE`` evaluates for those decisions only (a join would read every cadre)."""
    base = select(A.c.kind, A.c.cadre_id).where(A.c.decided_on.between(start, end))
    if subtree is not None:
        home_org = select(K.c.org_id).where(K.c.id == A.c.cadre_id).scalar_subquery()
        org_of_action = func.coalesce(T.c.org_id, A.c.to_org_id, A.c.from_org_id, home_org)
        in_tree = select(P.c.id).where(in_subtree(P.c.path, subtree))
        base = (
            base.select_from(A).join(T, T.c.id == A.c.post_id, isouter=True).where(org_of_action.in_(in_tree))
        )
    actions = base.cte("actions")
    by_kind = select(
        literal(0).label("moved"), actions.c.kind, func.count(), func.count(distinct(actions.c.cadre_id))
    ).group_by(actions.c.kind)
    moved = select(literal(1), literal(""), literal(0), func.count(distinct(actions.c.cadre_id))).where(
        actions.c.kind.in_(MOVED_OR_APPOINTED)
    )
    await report_settings(session)
    rows = (await session.execute(union_all(by_kind, moved))).all()
    kinds = sorted((kind, int(n), int(c)) for flag, kind, n, c in rows if not flag)
    return {
        "actions_by_kind": {kind: n for kind, n, _ in kinds},
        "cadres_by_kind": {kind: c for kind, _, c in kinds},
        "cadres_moved_or_appointed": next(int(c) for flag, _, _, c in rows if flag),
    }


async def report_settings(session: AsyncSession) -> None:
    """PostgreSQL, for the rest of the (read-only) transaction: the memory to sort and hash a report's
    hundreds of thousands of rows in memory (the default 4 MB spills the personnel section's sort to
    disk), and no JIT (compiling, ~150 ms, costs more than it saves on statements of a few hundred ms)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(REPORT_SETTINGS)


async def _personnel_apart(
    db: Database, *, start: dt.date, end: dt.date, subtree: str | None
) -> dict[str, Any]:
    """The personnel section on a connection of its own, while the request's connection reads the planning
    and payroll sections. Decisions are never changed or removed, so another transaction reads the same
    decisions, bar one recorded in between."""
    async with db.session() as own:
        return await personnel(own, start=start, end=end, subtree=subtree)


async def sector(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    rulebook: Rulebook,
    *,
    start: dt.date,
    end: dt.date,
    within_org: uuid.UUID | None,
    baseline_year: int | None,
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
    term = default_term(end)
    # PostgreSQL: the personnel section (the heaviest statement) runs on its own connection meanwhile.
    db: Database | None = getattr(request.app.state, "db", None)
    apart = (
        asyncio.ensure_future(_personnel_apart(db, start=start, end=end, subtree=subtree))
        if db is not None and not db.sqlite
        else None
    )
    try:
        await report_settings(session)
        totals = await coverage_totals(session, request, principal, within_org=root_id, term=term, day=end)
        payroll = await streamlining(
            session,
            request,
            principal,
            rulebook,
            within_org=root_id,
            baseline_year=baseline_year,
            year=end.year,
        )
        section = await apart if apart else await personnel(session, start=start, end=end, subtree=subtree)
    except BaseException:
        if apart is not None and not apart.done():
            apart.cancel()
            await asyncio.gather(apart, return_exceptions=True)
        raise
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": {"id": str(root_id) if root_id else None, "name": name},
        "personnel": section,
        "payroll": payroll,
        "planning": {
            "term": term,
            "posts": totals["posts"],
            "posts_without_candidate": totals["posts_without_candidate"],
            "candidates": totals["candidates"],
            "ready_candidates": totals["ready_candidates"],
        },
    }
