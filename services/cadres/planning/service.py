"""Succession planning: check a plan entry against the rulebook, record it, remove it, report coverage.

Rules (the entry in force on the plan's ``added_on``; see ``rules.yaml``):

- ``planning.max_candidates_per_post``: at most N cadres in force for a post in a term;
- ``planning.max_posts_per_cadre_same_level``: a cadre in force for at most N posts of one level in a term,
  the level being the level of the post's organization;
- ``planning.higher_post_only``: the planned post must be higher than the highest post the cadre holds on
  ``added_on``. Our reading of "higher": the post's organization is of a higher level (province >
  upper_grassroots > grassroots_committee/grassroots_cell > sub_committee/cell), or of the same level and
  the post's category ranks higher (secretary > deputy_secretary > standing_member > chair > vice_chair >
  inspection_chair > head > deputy_head > executive_member > other). Both orders are data in the rule;
- ``planning.disciplinary_bar``: a disciplinary measure bars planning for 12 / 30 / 60 months after its
  decision (reprimand / warning / removal from post).

A check answers the findings; the real call refuses error findings (422 ``/problems/rule-violation``)
unless ``acknowledged_findings`` gives the committee's reason, and then records them with the entry.

Scope: a plan entry belongs to its post's organization; it exists for a caller when that organization is in
the caller's subtree.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres import repository as cadres_repo
from services.cadres.cadres.schemas import TheoryLevel
from services.cadres.planning import events
from services.cadres.planning import repository as repo
from services.cadres.planning.schemas import PlanCreate, PlanRemoval
from services.cadres.posts import service as posts_service
from shared.auth import Principal, require_role
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Finding, Rulebook, RuleNotInForce, finding, rule_violation

WRITE_ROLES = ("personnel",)
THEORY_ORDER = [level.value for level in TheoryLevel]  # none < elementary < … < bachelor


def add_months(day: dt.date, months: int) -> dt.date:
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def full_years(since: dt.date, day: dt.date) -> int:
    return day.year - since.year - ((day.month, day.day) < (since.month, since.day))


def default_term(day: dt.date, years: int = 5) -> str:
    """The congress term the day falls in (terms start in years divisible by the term length: 2025-2030)."""
    start = day.year - day.year % years
    return f"{start}-{start + years}"


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "cadre_id": str(row["cadre_id"]), "post_id": str(row["post_id"]),
        "term": row["term"], "added_on": row["added_on"].isoformat(),
        "removed_on": row["removed_on"].isoformat() if row["removed_on"] else None,
        "removal_reason": row["removal_reason"], "findings": row["findings"] or [],
        "acknowledged_reason": row["acknowledged_reason"], "recorded_at": row["recorded_at"],
        "recorded_by": row["recorded_by"],
    }  # fmt: skip


async def visible_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> RowMapping:
    row = await cadres_repo.get(session, cadre_id)
    scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("cadre", f"No cadre {cadre_id}.")
    return row


async def visible_plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> RowMapping:
    row = await repo.get(session, plan_id)
    scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("plan", f"No plan entry {plan_id}.")
    return row


def _rule(rulebook: Rulebook, rule_id: str, day: dt.date) -> Any:
    try:
        return rulebook.get(rule_id, day)
    except RuleNotInForce:
        return None  # no such rule on that day: nothing to check


def _rank(value: str, groups: list[list[str]]) -> int:
    """Higher is larger: the first group of the rule is the highest."""
    for i, group in enumerate(groups):
        if value in group:
            return len(groups) - i
    return 0


def post_rank(rule_value: dict[str, Any], *, level: str | None, category: str) -> tuple[int, int]:
    categories = [[c] for c in rule_value["categories"]]
    return _rank(level or "", rule_value["levels"]), _rank(category, categories)


def check_term(rulebook: Rulebook, term: str, day: dt.date) -> None:
    rule = _rule(rulebook, "planning.term_years", day)
    years = int(rule.value) if rule is not None else 5
    start, end = (int(part) for part in term.split("-"))
    if end - start != years:
        raise Unprocessable(
            f"A planning term spans {years} years (e.g. 2025-2030); {term} does not.", slug="invalid-term"
        )


async def findings_for(
    session: AsyncSession,
    rulebook: Rulebook,
    *,
    cadre: RowMapping,
    post: RowMapping,
    post_level: str | None,
    term: str,
    day: dt.date,
) -> list[Finding]:
    found: list[Finding] = []
    rule = _rule(rulebook, "planning.max_candidates_per_post", day)
    if rule is not None:
        planned = await repo.candidates_for_post(session, post_id=post["id"], term=term, day=day)
        if planned >= int(rule.value):
            found.append(finding(rule, (
                f"Post {post['title']!r} already has {planned} cadres planned for {term}; "
                f"at most {rule.value} per post."
            )))  # fmt: skip
    rule = _rule(rulebook, "planning.max_posts_per_cadre_same_level", day)
    if rule is not None and post_level is not None:
        posts = await repo.posts_of_cadre_at_level(
            session, cadre_id=cadre["id"], term=term, day=day, level=post_level
        )
        if posts >= int(rule.value):
            found.append(finding(rule, (
                f"{cadre['full_name']} is already planned for {posts} posts at the {post_level} level for "
                f"{term}; at most {rule.value} posts of one level."
            )))  # fmt: skip
    rule = _rule(rulebook, "planning.higher_post_only", day)
    if rule is not None:
        target = post_rank(rule.value, level=post_level, category=post["category"])
        held = await repo.held_posts(session, cadre_id=cadre["id"], day=day)
        not_lower = [
            h for h in held if post_rank(rule.value, level=h["org_level"], category=h["category"]) >= target
        ]
        if not_lower:
            found.append(finding(rule, (
                f"{cadre['full_name']} holds {not_lower[0]['title']!r} ({not_lower[0]['category']}, "
                f"{not_lower[0]['org_level']}), not lower than {post['title']!r} ({post['category']}, "
                f"{post_level}); a cadre is planned only for a higher post."
            )))  # fmt: skip
    rule = _rule(rulebook, "planning.disciplinary_bar", day)
    if rule is not None:
        for discipline in await repo.disciplines_of(session, cadre["id"], until=day):
            months = rule.value.get(discipline["measure"])
            if months is None:
                continue
            until = add_months(discipline["decided_on"], int(months))
            if day < until:
                found.append(finding(rule, (
                    f"{cadre['full_name']} was disciplined ({discipline['measure']}, "
                    f"{discipline['decision_no']} of {discipline['decided_on'].isoformat()}); "
                    f"not planned before {until.isoformat()}."
                )))  # fmt: skip
    return found


async def _prepare(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    rulebook: Rulebook,
    body: PlanCreate,
    *,
    lock: bool = False,
) -> tuple[RowMapping, RowMapping, list[Finding]]:
    require_role(principal, *WRITE_ROLES, action="plan cadres")
    cadre = await visible_cadre(session, principal, body.cadre_id)
    post = await posts_service.visible(session, principal, body.post_id, body.added_on)
    if lock:
        await repo.lock_for_planning(session, cadre_id=body.cadre_id, post_id=body.post_id)
    if cadre["status"] != "active":
        raise Unprocessable(
            f"The cadre is {cadre['status']}; only active cadres are planned.", slug="cadre-not-active"
        )
    check_term(rulebook, body.term, body.added_on)
    if await repo.not_removed_exists(session, cadre_id=body.cadre_id, post_id=body.post_id, term=body.term):
        raise Problem(
            409,
            f"{cadre['full_name']} is already planned for this post for {body.term}.",
            slug="already-planned",
        )
    found = await findings_for(
        session,
        rulebook,
        cadre=cadre,
        post=post,
        post_level=post["org_level"],  # None: the organization is not in the projection
        term=body.term,
        day=body.added_on,
    )
    return cadre, post, found


async def check(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: PlanCreate
) -> list[Finding]:
    _, _, found = await _prepare(session, request, principal, rulebook, body)
    return found


async def _insert(
    session: AsyncSession,
    plan_id: uuid.UUID,
    principal: Principal,
    body: PlanCreate,
    found: list[Finding],
    reason: str | None,
) -> None:
    await repo.insert_plan(
        session,
        id=plan_id,
        cadre_id=body.cadre_id,
        post_id=body.post_id,
        term=body.term,
        added_on=body.added_on,
        removed_on=None,
        removal_reason=None,
        findings=[f.model_dump() for f in found],
        acknowledged_reason=reason,
        recorded_by=principal.sub,
    )


async def add(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: PlanCreate
) -> tuple[dict[str, Any], list[Finding]]:
    _, _, found = await _prepare(session, request, principal, rulebook, body, lock=True)
    errors = [f for f in found if f.severity == "error"]
    if errors and body.acknowledged_findings is None:
        raise rule_violation(found)
    plan_id = uuid.uuid4()
    reason = body.acknowledged_findings.reason if body.acknowledged_findings and found else None
    try:
        await _insert(session, plan_id, principal, body, found, reason)
    except IntegrityError as exc:  # a concurrent request planned the same entry first
        raise Problem(
            409, "The cadre is already planned for this post for this term.", slug="already-planned"
        ) from exc
    await events.added(
        session,
        plan_id=plan_id,
        cadre_id=body.cadre_id,
        post_id=body.post_id,
        term=body.term,
        on=body.added_on,
        reason=reason,
    )
    return to_read(await visible_plan(session, principal, plan_id)), found


async def _remove(session: AsyncSession, plan: RowMapping, *, removed_on: dt.date, reason: str) -> None:
    await repo.remove_plan(session, plan["id"], removed_on=removed_on, reason=reason)
    await events.removed(
        session,
        plan_id=plan["id"],
        cadre_id=plan["cadre_id"],
        post_id=plan["post_id"],
        term=plan["term"],
        on=removed_on,
        reason=reason,
    )


async def remove(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, body: PlanRemoval
) -> dict[str, Any]:
    plan = await visible_plan(session, principal, plan_id)
    require_role(principal, *WRITE_ROLES, action="remove plan entries")
    if plan["removed_on"] is not None:
        raise Problem(
            409, f"The entry was removed on {plan['removed_on'].isoformat()}.", slug="plan-already-removed"
        )
    if body.removed_on < plan["added_on"]:
        raise Unprocessable(
            f"removed_on is before the entry was added ({plan['added_on'].isoformat()}).", slug="out-of-order"
        )
    await _remove(session, plan, removed_on=body.removed_on, reason=body.reason)
    return to_read(await visible_plan(session, principal, plan_id))


async def remove_for_discipline(
    session: AsyncSession,
    rulebook: Rulebook,
    *,
    cadre_id: uuid.UUID,
    measure: str,
    decided_on: dt.date,
    decision_no: str,
) -> int:
    """Take the cadre out of every entry not yet removed, on the decision's day; how many were removed.

    An entry added after that day (the measure recorded late) is removed on the day it was added.
    """
    rule = _rule(rulebook, "planning.discipline_removes", decided_on)
    if rule is None or not rule.value:
        return 0
    reason = f"discipline: {measure} ({decision_no} of {decided_on.isoformat()}; {rule.source})"
    plans = await repo.not_removed_of_cadre(session, cadre_id)
    for plan in plans:
        await _remove(session, plan, removed_on=max(decided_on, plan["added_on"]), reason=reason)
    return len(plans)


# ------------------------------------------------------------------------------------------- reading


async def _within_path(
    session: AsyncSession, request: Request, principal: Principal, within_org: uuid.UUID | None
) -> tuple[str | None, str | None]:
    scope = await scope_path(session, principal)
    if within_org is None:
        return scope, None
    org = await require_org(session, request, within_org)
    if not within(org["path"], scope):
        raise NotFound("organization", f"No organization {within_org}.")
    return scope, org["path"]


async def list_(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    within_org: uuid.UUID | None,
    term: str | None,
    post_id: uuid.UUID | None,
    cadre_id: uuid.UUID | None,
    day: dt.date | None,
    after: tuple[str, str, str] | None,
    limit: int,
) -> list[RowMapping]:
    scope, within_path = await _within_path(session, request, principal, within_org)
    return await repo.list_rows(
        session,
        scope_path=scope,
        within_path=within_path,
        term=term,
        post_id=post_id,
        cadre_id=cadre_id,
        day=day,
        after=after,
        limit=limit,
    )


def attained(declared: str | None, received: list[str]) -> str:
    levels = [lvl for lvl in [declared or "none", *received] if lvl in THEORY_ORDER]
    return max(levels, key=THEORY_ORDER.index) if levels else "none"


def is_ready(post: RowMapping, *, level: str, since: dt.date | None, day: dt.date) -> bool:
    """The cadre meets the post's requirements on the day: theory level, and years in the current post."""
    required = post["required_theory_level"]
    if required and THEORY_ORDER.index(level) < THEORY_ORDER.index(required):
        return False
    years = post["min_years_in_prior_post"]
    if years:
        return since is not None and full_years(since, day) >= years
    return True


async def coverage(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    within_org: uuid.UUID | None,
    term: str,
    day: dt.date,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Per post in scope: cadres planned and ready on the day; and the totals over the whole scope."""
    scope, within_path = await _within_path(session, request, principal, within_org)
    posts = await repo.posts_in(session, scope_path=scope, within_path=within_path)
    plans = await repo.plans_in_force(session, term=term, day=day, scope_path=scope, within_path=within_path)
    cadre_ids = sorted({p["cadre_id"] for p in plans})
    declared = await repo.declared_levels(session, cadre_ids)
    received = await repo.attained_levels(session, cadre_ids, until=day)
    since = await repo.current_assignment_starts(session, cadre_ids, day=day)
    level = {c: attained(declared.get(c), received.get(c, [])) for c in cadre_ids}
    by_post: dict[uuid.UUID, set[uuid.UUID]] = {}
    for p in plans:
        by_post.setdefault(p["post_id"], set()).add(p["cadre_id"])
    items: list[dict[str, Any]] = []
    ready_cadres: set[uuid.UUID] = set()
    for post in posts:
        planned = by_post.get(post["id"], set())
        ready = {c for c in planned if is_ready(post, level=level[c], since=since.get(c), day=day)}
        ready_cadres |= ready
        items.append({
            "post_id": str(post["id"]), "org_id": str(post["org_id"]), "org_name": post["org_name"],
            "title": post["title"], "category": post["category"], "planned": len(planned),
            "ready": len(ready),
            "_key": [post["org_path"], str(post["id"])],
        })  # fmt: skip
    totals = {
        "posts": len(items),
        "posts_without_candidate": sum(1 for i in items if i["planned"] == 0),
        "posts_with_one": sum(1 for i in items if i["planned"] == 1),
        "candidates": len(cadre_ids),
        "ready_candidates": len(ready_cadres),
    }
    return items, totals


async def coverage_totals(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    within_org: uuid.UUID | None,
    term: str,
    day: dt.date,
) -> dict[str, int]:
    """The totals of ``coverage`` without its items, counted in one statement (``coverage_counts``),
    readiness included: only the totals come back.

    A planned cadre is ready when ready for one of the posts it is planned for (as in ``coverage``)."""
    scope, within_path = await _within_path(session, request, principal, within_org)
    where = {"scope_path": scope, "within_path": within_path}
    counts = await repo.coverage_counts(session, term=term, day=day, **where)
    return {
        "posts": counts["posts"],
        "posts_without_candidate": counts["posts"] - counts["planned_posts"],
        "posts_with_one": counts["posts_with_one"],
        "candidates": counts["candidates"],
        "ready_candidates": counts["ready_candidates"],
    }
