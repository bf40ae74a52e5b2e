"""The orgs sections of the sector report (api.md, "The sector report").

Definitions, so that every figure can be recomputed by hand:

* The subtree is ``within`` (default: the caller's scope; else the whole system) as the tree stood on ``to``.
  An organization belongs to it if its state on ``to`` — whatever its status — lies under that root.
* "Grassroots organizations" are those of level ``grassroots_committee`` or ``grassroots_cell``. The kind that
  classifies an organization, a member or an admission is the kind of the nearest grassroots ancestor-or-self
  in the tree as it stood on ``to``.
* A date in the period means ``from ≤ date ≤ to``. Counts of people are distinct people.
* documents: issued in the period, by kind. organizations: established (by ``established_on``), dissolved and
  merged (by the change's effective date) in the period, by level as of ``to``; grassroots organizations
  established in the period and those active on ``to``, by kind; ratings for the years of the period.
  members: admitted in the period by the kind of the admitting organization; recognized as official; left, by
  reason; and those active on ``to`` by status. coverage: as of ``to``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.documents.repository import counts_by_kind
from services.orgs.members import counts
from services.orgs.organizations import repository as org_repo
from services.orgs.organizations import service as org_service
from services.orgs.ratings.repository import ratings_by_year
from services.orgs.stats import repository as repo
from services.orgs.units.repository import coverage_counts
from shared.auth import Principal
from shared.problems import NotFound, Unprocessable

RATING_LEVELS = ("excellent", "good", "completed", "failed")


def grassroots_kinds(tree: list[dict[str, Any]]) -> dict[int, str | None]:
    """node → the kind of its nearest grassroots ancestor-or-self (None above the grassroots level)."""
    kinds: dict[int, str | None] = {}
    for row in tree:  # ordered by depth: parents first
        if row["level"] in repo.GRASSROOTS:
            kinds[row["node"]] = row["kind"]
        else:
            kinds[row["node"]] = kinds.get(row["parent_node"]) if row["parent_node"] else None
    return kinds


async def member_figures(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> dict[str, Any]:
    """The members section, from the counts kept with the states (``members.counts``): no member is read.

    Admissions are classified by the grassroots kind of the admitting organization on ``end``: the counts
    come grouped by (parent, level, kind) of that organization, and the kind of a cell's parent is found by
    walking the tree without its cells (the whole tree only if a parent is itself a cell).
    """
    if within_path is None:
        groups = await repo.events_by_admitting_parent(session, start, end, None)
        events = await repo.events_in(session, start, end)
        active = await repo.active_on(session, end, None)
    else:
        groups, active = await repo.subtree_members(session, start, end, within_path)
        events = {e: sum(int(g[e]) for g in groups) for e in counts.EVENTS}
    kinds = grassroots_kinds(await repo.non_cells_on(session, end, within_path))
    if any(
        g["level"] not in repo.GRASSROOTS and g["parent_node"] is not None and g["parent_node"] not in kinds
        for g in groups
        if g["admitted"]
    ):
        kinds = grassroots_kinds(await repo.tree_on(session, end, within_path))
    admitted = Counter[str]()
    for g in groups:
        if not g["admitted"]:
            continue
        if g["level"] in repo.GRASSROOTS:
            kind = g["kind"]
        else:
            kind = kinds.get(g["parent_node"]) if g["parent_node"] is not None else None
        admitted[kind or "other"] += int(g["admitted"])
    left = Counter[str]()
    for reason in counts.LEFT_REASONS:
        if events[f"left_{reason}"]:
            left[reason] = events[f"left_{reason}"]
    return {
        "admitted_by_kind": _sorted(admitted),
        "admitted_total": sum(admitted.values()),
        "recognized_total": events["recognized"],
        "left_by_reason": _sorted(left),
        "active_at_end_by_status": active,
    }


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return {k: counter[k] for k in sorted(counter)}


async def sector(
    session: AsyncSession, principal: Principal, *, start: dt.date, end: dt.date, within: uuid.UUID | None
) -> dict[str, Any]:
    if start > end:
        raise Unprocessable("`from` must not be after `to`.", slug="dates-out-of-order")
    root_id = within or principal.org_scope
    within_path = scope_name = None
    if root_id is not None:
        try:
            root = await org_service.get(session, principal, root_id, end)
        except NotFound as exc:
            raise NotFound("organization", f"No organization {root_id} on {end.isoformat()}.") from exc
        ident = await org_repo.identity(session, root_id)
        assert ident is not None
        row = await org_repo.row_at(session, ident["node"], end)
        assert row is not None
        within_path, scope_name = row["path"], root["name"]

    figures = await repo.organization_figures(session, start, end, within_path)
    established = Counter[str]()
    grassroots_established = Counter[str]()
    grassroots_active = Counter[str]()
    for level, kind, status, in_period, n in figures:
        if in_period:
            established[level] += n
            if level in repo.GRASSROOTS:
                grassroots_established[kind] += n
        elif level in repo.GRASSROOTS and status == "active":
            grassroots_active[kind] += n
    ended: dict[str, Counter[str]] = {"dissolved": Counter(), "merged": Counter()}
    for change, level, n in await repo.ended_by_level(session, start, end, within_path):
        ended[change][level] += n
    ratings = await ratings_by_year(session, start.year, end.year, within_path)
    members = await member_figures(session, start, end, within_path)

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": {"id": str(root_id) if root_id else None, "name": scope_name},
        "documents": {
            "issued_by_kind": dict(sorted((await counts_by_kind(session, start, end, within_path)).items()))
        },
        "organizations": {
            "grassroots_established_by_kind": _sorted(grassroots_established),
            "grassroots_active_at_end_by_kind": _sorted(grassroots_active),
            "established_by_level": _sorted(established),
            "dissolved_by_level": _sorted(ended["dissolved"]),
            "merged_by_level": _sorted(ended["merged"]),
            "ratings_by_year": {
                str(year): {level: ratings.get(year, {}).get(level, 0) for level in RATING_LEVELS}
                for year in range(start.year, end.year + 1)
            },
        },
        "members": members,
        "coverage": await coverage_counts(session, day=end, within_path=within_path),
    }
