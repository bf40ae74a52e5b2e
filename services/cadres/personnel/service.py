"""Personnel actions: check them against the rulebook, record them, and apply them to assignments.

Scope: the cadre (by home organization) must be visible to the caller, and so must the post (404 otherwise);
the organizations named as from/to must lie in the caller's subtree (403 otherwise). An action is never
changed; an assignment is ended (never deleted), and a renewal is a new row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import EllipsisType
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.cadres import events as cadre_events
from services.cadres.cadres import repository as cadres_repo
from services.cadres.personnel import events
from services.cadres.personnel import repository as repo
from services.cadres.personnel.checks import Proposal, Row, findings_for, term_last_day
from services.cadres.personnel.schemas import (
    ENDS,
    MOVES,
    RECORDED_ONLY,
    RENEWS,
    STARTS,
    TIME_LIMITED,
    ActionCreate,
    ActionKind,
)
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Rulebook, RuleNotInForce, rule_violation

WRITE_ROLES = ("personnel",)
COMMITTEE_SEATS = frozenset({"secretary", "deputy_secretary", "standing_member", "executive_member"})
TERMED = frozenset({ActionKind.appointment, ActionKind.reappointment})


def to_read(row: RowMapping, started: list[uuid.UUID], ended: list[uuid.UUID]) -> dict[str, Any]:
    def ident(value: uuid.UUID | None) -> str | None:
        return str(value) if value else None

    return {
        "id": str(row["id"]), "kind": row["kind"], "cadre_id": str(row["cadre_id"]),
        "post_id": ident(row["post_id"]), "from_org_id": ident(row["from_org_id"]),
        "to_org_id": ident(row["to_org_id"]), "decision_no": row["decision_no"],
        "decided_on": row["decided_on"].isoformat(), "effective_on": row["effective_on"].isoformat(),
        "ends_on": row["ends_on"].isoformat() if row["ends_on"] else None, "note": row["note"],
        "findings": row["findings"] or [], "findings_acknowledged": row["findings_acknowledged"],
        "acknowledgement_reason": row["acknowledgement_reason"],
        "assignments_started": [str(i) for i in started], "assignments_ended": [str(i) for i in ended],
        "recorded_at": row["recorded_at"],
    }  # fmt: skip


async def visible_cadre(
    session: AsyncSession,
    principal: Principal,
    cadre_id: uuid.UUID,
    *,
    scope: str | EllipsisType | None = ...,
) -> RowMapping:
    row = await cadres_repo.get(session, cadre_id)
    if scope is ...:
        scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("cadre", f"No cadre {cadre_id}.")
    return row


def _within_scope(path: str | None, scope: str | None) -> bool:
    """As ``visible_cadre`` and ``posts.service.visible`` decide: everything when the scope is the whole
    province, else a path under the scope (an organization not in the projection is in no scope)."""
    return scope is None or (path is not None and within(path, scope))


async def _org_in_scope(
    session: AsyncSession, request: Request, scope: str | None, org_id: uuid.UUID, what: str
) -> RowMapping:
    org = await require_org(session, request, org_id)
    if not within(org["path"], scope):
        raise Problem(403, f"The {what} organization is outside your scope.", slug="forbidden")
    return org


def _holding(assignments: list[Row], post_id: uuid.UUID) -> Row | None:
    return next((a for a in assignments if a["post_id"] == post_id), None)


async def _propose(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: ActionCreate
) -> tuple[Proposal, dict[str, Any], dict[str, Any] | None]:
    """Validate the action and work out its effect: the proposal, the action's row, the new assignment."""
    kind, day = body.kind, body.effective_on
    scope = await scope_path(session, principal)  # read once for the whole request
    # The cadre comes with all its assignments (and its number of disciplinary measures), the post with
    # whether the cadre is in its plan on the day: what the checks read, in two statements.
    cadre, history = await repo.cadre_with_assignments(session, body.cadre_id)
    if cadre is None or not _within_scope(cadre["org_path"], scope):
        raise NotFound("cadre", f"No cadre {body.cadre_id}.")
    require_role(principal, *WRITE_ROLES, action="record personnel actions")
    if cadre["status"] != "active":
        raise Unprocessable(f"{cadre['full_name']} is {cadre['status']}.", slug="cadre-not-active")
    post = None
    if body.post_id is not None:
        post = await repo.post_for_action(session, body.post_id, day, cadre_id=cadre["id"])
        if post is None or not _within_scope(post["org_path"], scope):
            raise NotFound("post", f"No post {body.post_id}.")
        if kind in STARTS:
            if post["org_status"] != "active":  # None: not in the projection
                raise Unprocessable(
                    f"The organization of {post['title']} is no longer active.",
                    slug="organization-not-active",
                )
        if kind is ActionKind.designation and post["category"] not in COMMITTEE_SEATS:
            raise Unprocessable(
                f"{post['title']} is not a seat of a Party committee (a {post['category']}).",
                slug="not-a-committee-seat",
            )
    from_org_id, to_org_id = body.from_org_id, body.to_org_id
    if from_org_id is not None:
        await _org_in_scope(session, request, scope, from_org_id, "from")
    if to_org_id is not None:
        await _org_in_scope(session, request, scope, to_org_id, "to")
        if post is not None and kind in STARTS | RENEWS and to_org_id != post["org_id"]:
            raise Unprocessable(
                f"to_org_id is not the organization of {post['title']} ({post['org_id']}).",
                slug="invalid-input",
            )
    elif post is not None and kind in STARTS | RENEWS:
        to_org_id = post["org_id"]

    if kind not in RECORDED_ONLY:
        latest = repo.latest_change(history)
        if latest is not None and day < latest:
            raise Unprocessable(
                f"The {kind.value} is effective on {day.isoformat()}, before a change to "
                f"{cadre['full_name']}'s assignments already recorded (effective {latest.isoformat()}); "
                "assignments change in date order.",
                slug="out-of-order",
            )
    current = repo.current_assignments(history, day)
    proposal = Proposal(kind=kind, cadre=cadre, post=post, effective_on=day, decided_on=body.decided_on,
                        current=current, history=history)  # fmt: skip
    if post is not None and kind in STARTS and _holding(current, post["id"]) is not None:
        raise Unprocessable(
            f"{cadre['full_name']} already holds {post['title']} on {day.isoformat()}.",
            slug="already-holds-post",
        )
    if kind in MOVES:
        proposal.ending = [a for a in current if from_org_id is None or a["org_id"] == from_org_id]
        if from_org_id is not None and not proposal.ending:
            raise Unprocessable(
                f"{cadre['full_name']} holds no post in organization {from_org_id} on {day.isoformat()}.",
                slug="not-holding",
            )
    elif kind in RENEWS:
        assert post is not None
        proposal.renewed = _holding(current, post["id"])
        if proposal.renewed is None:
            raise Unprocessable(
                f"{cadre['full_name']} does not hold {post['title']} on {day.isoformat()}: "
                "only a held post can be renewed.",
                slug="not-holding",
            )
        proposal.ending = [proposal.renewed]
    elif kind in ENDS:
        if post is not None:
            held = _holding(current, post["id"])
            if held is None:
                raise Unprocessable(
                    f"{cadre['full_name']} does not hold {post['title']} on {day.isoformat()}.",
                    slug="not-holding",
                )
            proposal.ending = [held]
        else:
            proposal.ending = list(current)
        if not proposal.ending and kind is not ActionKind.retirement:
            raise Unprocessable(
                f"{cadre['full_name']} holds no post on {day.isoformat()}: nothing to end.",
                slug="not-holding",
            )

    origins = {a["org_id"] for a in proposal.ending}
    if from_org_id is None and kind in MOVES | ENDS and len(origins) == 1:
        from_org_id = origins.pop()  # where the cadre leaves from, when it is one organization

    action_id = uuid.uuid4()
    new: dict[str, Any] | None = None
    if post is not None and kind in STARTS | RENEWS:
        if kind in TERMED:
            try:
                years = int(rulebook.value("appointments.term_years", day))
            except RuleNotInForce as exc:  # a rulebook gap is the client's date, not a server fault
                raise Unprocessable(
                    f"The rulebook has no appointment term in force on {day.isoformat()}.",
                    slug="rule-not-in-force",
                ) from exc
            proposal.term_ends_on = term_last_day(day, years)
        new = {
            "id": uuid.uuid4(), "cadre_id": cadre["id"], "post_id": post["id"], "org_id": post["org_id"],
            "kind": kind.value, "starts_on": day, "ends_on": body.ends_on if kind in TIME_LIMITED else None,
            "term_ends_on": proposal.term_ends_on, "started_by": action_id,
        }  # fmt: skip
    action = {
        "id": action_id, "kind": kind.value, "cadre_id": cadre["id"], "post_id": body.post_id,
        "from_org_id": from_org_id, "to_org_id": to_org_id, "decision_no": body.decision_no,
        "decided_on": body.decided_on, "effective_on": day, "ends_on": body.ends_on, "note": body.note,
    }  # fmt: skip
    return proposal, action, new


async def check(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: ActionCreate
) -> dict[str, Any]:
    """The dry run: the same validation and findings as recording, and nothing written."""
    proposal, _, _ = await _propose(session, request, principal, rulebook, body)
    found = await findings_for(session, rulebook, proposal)
    return {"action": None, "findings": [f.model_dump() for f in found]}


async def record(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: ActionCreate
) -> dict[str, Any]:
    proposal, action, new = await _propose(session, request, principal, rulebook, body)
    found = await findings_for(session, rulebook, proposal)
    errors = [f for f in found if f.severity == "error"]
    if errors and body.acknowledged_findings is None:
        raise rule_violation(
            found,
            "; ".join(f.message for f in errors)
            + " To record the decision as the committee made it, give acknowledged_findings with a reason.",
        )
    action.update(
        findings=[f.model_dump() for f in found],
        findings_acknowledged=bool(errors),
        acknowledgement_reason=body.acknowledged_findings.reason if body.acknowledged_findings else None,
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await repo.insert_action(session, **action)
    await events.recorded(session, action)
    day = proposal.effective_on
    for assignment in proposal.ending:  # in force on the day, so not over before it
        sequence = await repo.end_assignment(session, assignment["id"], ends_on=day, ended_by=action["id"])
        await events.assignment_ended(session, dict(assignment), ends_on=day, sequence=sequence)
    if new is not None:
        planned_end = new["ends_on"]
        await repo.insert_assignment(session, version=2 if planned_end else 1, **new)
        await events.assignment_started(session, new)
        if planned_end is not None:  # a rotation or secondment: its end is known from the start
            await events.assignment_ended(session, new, ends_on=planned_end, sequence=2)
    if proposal.kind is ActionKind.retirement:
        await _retire(session, principal, proposal.cadre)
    return await get(session, principal, action["id"])


async def _retire(session: AsyncSession, principal: Principal, cadre: Row) -> None:
    sequence = await cadres_repo.update_cadre(session, cadre["id"], status="retired")
    await cadres_repo.record_change(
        session,
        cadre_id=cadre["id"],
        sequence=sequence,
        change="updated",
        before={"status": cadre["status"]},
        after={"status": "retired"},
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await cadre_events.updated(
        session, cadre_id=cadre["id"], sequence=sequence, changes={"status": "retired"}
    )


def _visible_action(row: RowMapping | None, scope: str | None) -> bool:
    if row is None:
        return False
    if scope is None:
        return True
    paths = (row["home_path"], row["to_path"], row["from_path"], row["post_path"])
    return any(path is not None and within(path, scope) for path in paths)


async def get(session: AsyncSession, principal: Principal, action_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.get_action(session, action_id)
    if row is None or not _visible_action(row, await scope_path(session, principal)):
        raise NotFound("personnel action", f"No personnel action {action_id}.")
    started, ended = (await repo.assignments_touched(session, [action_id]))[action_id]
    return to_read(row, started, ended)


async def list_(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    within_org: uuid.UUID | None,
    kind: str | None,
    cadre_id: uuid.UUID | None,
    from_day: dt.date | None,
    to_day: dt.date | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit + 1`` actions (the extra one tells the caller there is a next page)."""
    scope = await scope_path(session, principal)
    within_path = await within_path_of(session, request, scope, within_org)
    rows = await repo.list_actions(
        session,
        scope_path=scope,
        within_path=within_path,
        kind=kind,
        cadre_id=cadre_id,
        from_day=from_day,
        to_day=to_day,
        after=after,
        limit=limit,
    )
    touched = await repo.assignments_touched(session, [r["id"] for r in rows])
    return [to_read(r, *touched[r["id"]]) for r in rows]


async def within_path_of(
    session: AsyncSession, request: Request, scope: str | None, org_id: uuid.UUID | None
) -> str | None:
    if org_id is None:
        return None
    org = await require_org(session, request, org_id)
    if not within(org["path"], scope):
        raise NotFound("organization", f"No organization {org_id}.")
    return str(org["path"])


# ------------------------------------------------------------------------------------------ assignments


def assignment_read(row: RowMapping) -> dict[str, Any]:
    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(row["id"]), "cadre_id": str(row["cadre_id"]),
        "post": {"id": str(row["post_id"]), "title": row["post_title"], "category": row["post_category"]},
        "org_id": str(row["org_id"]), "org_name": row["org_name"], "kind": row["kind"],
        "starts_on": row["starts_on"].isoformat(), "ends_on": day(row["ends_on"]),
        "term_ends_on": day(row["term_ends_on"]),
        "started_by": str(row["started_by"]) if row["started_by"] else None,
        "ended_by": str(row["ended_by"]) if row["ended_by"] else None,
    }  # fmt: skip
