"""The rules of Party members over time. Functions take the session and never commit.

Every change is effective on a date, is appended (never overwrites), bumps the member's version, writes its
history entry and its event in the same transaction. A member's changes come in date order: a change
effective before the member's current state began is refused (``/problems/out-of-order``), as for the tree.

Scope: a member is visible when its home organization (in the current state) lies in the caller's subtree
as the tree stands today; otherwise it does not exist for the caller (404). Sensitive fields (national id,
ethnicity, religion) are answered only to ``admin``, ``vetting`` and ``organizer`` (who, seeing the member,
are in scope); every answer carrying one is recorded in ``sensitive_reads``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members import counts, events
from services.orgs.members import repository as repo
from services.orgs.members.schemas import (
    SENSITIVE_FIELDS,
    MemberCreate,
    MemberDepart,
    MemberExempt,
    MemberRecognize,
    MemberTransfer,
    TransferKind,
)
from services.orgs.members.search import NameQuery
from services.orgs.organizations import repository as org_repo
from services.orgs.organizations import service as org_service
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Finding, Rulebook, RuleNotInForce, finding, rule_violation
from shared.text import normalize, vietnamese_sort_key

WRITE_ROLES = ("organizer",)
SENSITIVE_READ_ROLES = ("vetting", "organizer")  # and admin (Principal.has_any)

VersionCheck = Callable[[int], None]


# ------------------------------------------------------------------------------------------------ dates


def add_months(day: dt.date, months: int) -> dt.date:
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years of age on the day."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# ------------------------------------------------------------------------------------------------ scope


def may_read_sensitive(principal: Principal) -> bool:
    return principal.has_any(*SENSITIVE_READ_ROLES)


async def _visible(
    session: AsyncSession, principal: Principal, member_id: uuid.UUID
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The member's identity and current state if the caller may see it; 404 otherwise."""
    found = await repo.member_now(session, member_id)  # one query: a member always has a current state
    if found is not None:
        ident, state, home_path = found
        scope = await org_service.scope_path(session, principal)
        if home_path is not None and org_service.within_scope(home_path, scope):
            return ident, state
    raise NotFound("member", f"No member {member_id}.")


async def _writable(
    session: AsyncSession,
    principal: Principal,
    member_id: uuid.UUID,
    action: str,
    check_version: VersionCheck | None = None,
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    ident, state = await _visible(session, principal, member_id)
    require_role(principal, *WRITE_ROLES, action=action)
    if check_version is not None:
        check_version(ident["version"])
    return ident, state


async def _visible_org(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> int:
    """The node of an organization the caller may see (404 otherwise), for the list filters."""
    ident = await org_repo.identity(session, org_id)
    if ident is not None:
        now = await org_repo.current_row(session, ident["node"])
        scope = await org_service.scope_path(session, principal)
        if now is not None and org_service.within_scope(now["path"], scope):
            return int(ident["node"])
    raise NotFound("organization", f"No organization {org_id}.")


# ---------------------------------------------------------------------------------------------- reading


def _temporary_read(temp: RowMapping | None, ids: dict[int, uuid.UUID]) -> dict[str, Any] | None:
    if temp is None:
        return None
    return {
        "org_id": str(ids[temp["host_org_node"]]),
        "starts_on": temp["starts_on"].isoformat(),
        "until": temp["until"].isoformat(),
    }


def _list_item(row: RowMapping, ids: dict[int, uuid.UUID], temp: RowMapping | None) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "member_no": row["member_no"],
        "full_name": row["full_name"],
        "birth_date": row["birth_date"].isoformat(),
        "gender": row["gender"],
        "org_id": str(ids[row["org_node"]]),
        "residence_unit_id": str(row["residence_unit_id"]) if row["residence_unit_id"] else None,
        "status": row["status"],
        "left_reason": row["left_reason"],
        "admitted_on": row["admitted_on"].isoformat(),
        "recognized_on": row["recognized_on"].isoformat() if row["recognized_on"] else None,
        "card_no": row["card_no"],
        "temporary": _temporary_read(temp, ids),
        "state_since": row["valid_from"].isoformat(),
        "version": row["version"],
    }


async def _items(session: AsyncSession, rows: Sequence[RowMapping], day: dt.date) -> list[dict[str, Any]]:
    temps = await repo.temporary_activities(session, [r["id"] for r in rows], day)
    nodes = {r["org_node"] for r in rows} | {t["host_org_node"] for t in temps.values()}
    ids = await org_repo.ids_of(session, nodes)
    return [_list_item(row, ids, temps.get(row["id"])) for row in rows]


async def get(
    session: AsyncSession, principal: Principal, member_id: uuid.UUID, day: dt.date
) -> dict[str, Any]:
    """The member as of the day; the sensitive fields only for the roles that may read them."""
    # The hot path of reads: the state on the day and the scope check in one query.
    row = await repo.row_at_with_home_path(session, member_id, day)
    if row is None or not (
        row["home_path_now"] is not None
        and org_service.within_scope(row["home_path_now"], await org_service.scope_path(session, principal))
    ):
        await _visible(session, principal, member_id)  # 404: no such member (or not in scope)
        raise NotFound("member", f"Member {member_id} was not a member on {day.isoformat()}.")
    (read,) = await _items(session, [row], day)
    allowed = may_read_sensitive(principal)
    read["decision_no"] = row["decision_no"]
    for field in SENSITIVE_FIELDS:
        read[field] = row[field] if allowed else None
    read["sensitive_omitted"] = not allowed
    return read


def sensitive_fields_shown(read: dict[str, Any]) -> list[str]:
    """The sensitive fields an answer carries (a value, not a null): what the audit records."""
    return [f for f in SENSITIVE_FIELDS if read.get(f) is not None]


async def record_sensitive_read(
    session: AsyncSession, principal: Principal, member_id: uuid.UUID, fields: list[str]
) -> None:
    await repo.record_sensitive_read(
        session,
        sub=principal.sub,
        roles=sorted(principal.roles),
        member_id=member_id,
        fields=fields,
        request_id=request_id_var.get(),
    )


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    day: dt.date,
    within: uuid.UUID | None,
    org_id: uuid.UUID | None,
    statuses: Sequence[str] | None,
    q: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
    member_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Members on the day (at home or temporarily active there), ordered by sort key then id.

    Each item carries its ``sort_key`` under ``_sort_key`` for the cursor (the router drops it).
    """
    scope = await org_service.scope_path(session, principal)
    within_path = None
    if within is not None:
        node = await _visible_org(session, principal, within)
        row = await org_repo.row_at(session, node, day)
        if row is None:
            raise NotFound("organization", f"Organization {within} did not exist on {day.isoformat()}.")
        within_path = row["path"]
    org_node = await _visible_org(session, principal, org_id) if org_id is not None else None
    rows = await repo.list_rows(
        session,
        day=day,
        org_node=org_node,
        member_id=member_id,
        within_path=within_path,
        scope_path=scope,
        statuses=statuses,
        q=NameQuery.parse(q),
        after=after,
        limit=limit,
    )
    items = await _items(session, rows, day)
    for row, item in zip(rows, items, strict=True):
        item["_sort_key"] = row["sort_key"]
    return items


# ---------------------------------------------------------------------------------------------- writing


def _audit(principal: Principal) -> dict[str, Any]:
    return {"recorded_by": principal.sub, "request_id": request_id_var.get()}


def _refuse(findings: list[Finding]) -> None:
    if findings:
        raise rule_violation(findings)


def _in_order(ident: Mapping[str, Any], state: Mapping[str, Any], day: dt.date, what: str) -> None:
    if day < ident["admitted_on"]:
        raise Unprocessable(
            f"{what} is effective on {day.isoformat()}, before the admission "
            f"({ident['admitted_on'].isoformat()}).",
            slug="out-of-order",
        )
    if day < state["valid_from"]:
        raise Unprocessable(
            f"{what} is effective on {day.isoformat()}, before a change already recorded for the member "
            f"(effective {state['valid_from'].isoformat()}); a member's changes are recorded in date order.",
            slug="out-of-order",
        )


def _not_left(state: Mapping[str, Any], what: str) -> None:
    if state["status"] == "left":
        raise Unprocessable(
            f"The member left on {state['valid_from'].isoformat()} ({state['left_reason']}); "
            f"{what} is refused.",
            slug="member-left",
        )


async def _receiving_org(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    org_id: uuid.UUID,
    day: dt.date,
) -> RowMapping:
    """An organization a member may be admitted into or transferred to on the day.

    Unknown → 422; outside the caller's scope → 403; not active on the day (or ending later), or not of a
    level where members are active → 422 naming ``members.admission_levels``.
    """
    # One query: its states from the day on hold the state on the day (the first, if it began by then) and
    # the current one (open-ended).
    states = await org_repo.states_of_id_from(session, org_id, day)
    now = next((s for s in states if s["valid_to"] is None), None)
    if now is None:
        raise Unprocessable(f"No organization {org_id}.", slug="unknown-organization")
    scope = await org_service.scope_path(session, principal)
    if not org_service.within_scope(now["path"], scope):
        raise Problem(403, "The organization is outside your scope.", slug="forbidden")
    rule = rulebook.get("members.admission_levels", day)
    row = next((s for s in states if s["valid_from"] <= day), None)
    if row is None or row["status"] != "active":
        state = row["status"] if row else "not yet established"
        raise rule_violation(
            [
                finding(
                    rule,
                    f"Organization {now['code']} is {state} on {day.isoformat()}; members are "
                    "admitted into and transferred to active organizations only.",
                )
            ]
        )
    later = [s for s in states if s["status"] != "active"]
    if later:
        raise rule_violation(
            [
                finding(
                    rule,
                    f"Organization {now['code']} ends on {later[0]['valid_from'].isoformat()}; "
                    "no member can be placed in it from an earlier date.",
                )
            ]
        )
    _refuse(_level_findings(rule, row))
    return row


def _level_findings(rule: Any, org_row: RowMapping) -> list[Finding]:
    if org_row["level"] in rule.value:
        return []
    return [
        finding(
            rule,
            f"{org_row['code']} is a {org_row['level']}; "
            f"members are active only in: {', '.join(rule.value)}.",
        )
    ]


async def admit(
    session: AsyncSession, principal: Principal, rulebook: Rulebook, body: MemberCreate
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="admit members")
    day = body.admitted_on
    org = await _receiving_org(session, principal, rulebook, body.org_id, day)
    age_rule = rulebook.get("members.admission_age", day)
    age = age_on(body.birth_date, day)
    if not age_rule.value["min"] <= age <= age_rule.value["max"]:
        raise rule_violation(
            [
                finding(
                    age_rule,
                    f"{body.full_name} is {age} on {day.isoformat()}; admission is from "
                    f"{age_rule.value['min']} to {age_rule.value['max']} years of age.",
                )
            ]
        )
    if body.member_no is not None and await repo.member_no_taken(session, body.member_no):
        raise Problem(409, f"The member number {body.member_no} is already used.", slug="duplicate-member-no")
    member_id = uuid.uuid4()
    await repo.insert_member(
        session,
        id=member_id,
        member_no=body.member_no,
        full_name=body.full_name,
        name_search=normalize(body.full_name),
        sort_key=vietnamese_sort_key(body.full_name),
        birth_date=body.birth_date,
        gender=body.gender.value,
        national_id=body.national_id,
        ethnicity=body.ethnicity,
        religion=body.religion,
        admitted_on=day,
        admitted_org_node=org["node"],
        decision_no=body.decision_no,
    )
    await repo.insert_state(
        session,
        event="admitted",
        member_id=member_id,
        valid_from=day,
        valid_to=None,
        status="probationary",
        left_reason=None,
        org_node=org["node"],
        residence_unit_id=body.residence_unit_id,
        recognized_on=None,
        card_no=None,
    )
    # The history keeps the basic fields only: it is read by more roles than the sensitive fields are.
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=1,
        change="admitted",
        effective_on=day,
        decision_no=body.decision_no,
        reason=None,
        before=None,
        after={"org_id": str(body.org_id), "status": "probationary", "full_name": body.full_name},
        **_audit(principal),
    )
    await events.admitted(
        session,
        member_id=member_id,
        sequence=1,
        org_id=body.org_id,
        full_name=body.full_name,
        gender=body.gender.value,
        birth_date=body.birth_date,
        admitted_on=day,
    )
    return await get(session, principal, member_id, day)


async def recognize(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    member_id: uuid.UUID,
    body: MemberRecognize,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, state = await _writable(session, principal, member_id, "recognize members", check_version)
    day = body.recognized_on
    _not_left(state, "recognition")
    if state["status"] != "probationary":
        raise Unprocessable(f"The member is {state['status']}, not probationary.", slug="not-probationary")
    _in_order(ident, state, day, "The recognition")
    rule = rulebook.get("members.probation_months", day)
    earliest = add_months(ident["admitted_on"], int(rule.value))
    if day < earliest:
        raise rule_violation(
            [
                finding(
                    rule,
                    f"Admitted on {ident['admitted_on'].isoformat()}, the member can be recognized from "
                    f"{earliest.isoformat()} ({rule.value} months of probation), not on {day.isoformat()}.",
                )
            ]
        )
    await repo.new_state(
        session,
        member_id,
        day,
        current=state,
        event="recognized",
        status="official",
        recognized_on=day,
        card_no=body.card_no,
    )
    sequence = await repo.bump_version(session, member_id)
    org_id = (await org_repo.ids_of(session, [state["org_node"]]))[state["org_node"]]
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=sequence,
        change="recognized",
        effective_on=day,
        decision_no=body.decision_no,
        reason=None,
        before={"status": "probationary"},
        after={"status": "official", "card_no": body.card_no},
        **_audit(principal),
    )
    await events.recognized(session, member_id=member_id, sequence=sequence, org_id=org_id, recognized_on=day)
    return await get(session, principal, member_id, day)


async def transfer(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    member_id: uuid.UUID,
    body: MemberTransfer,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, state = await _writable(session, principal, member_id, "transfer members", check_version)
    day = body.effective_on
    _not_left(state, "a transfer")
    _in_order(ident, state, day, "The transfer")
    target = await _receiving_org(session, principal, rulebook, body.to_org_id, day)
    if target["node"] == state["org_node"]:
        raise Unprocessable("The member is already active in that organization.", slug="same-organization")
    ids = await org_repo.ids_of(session, [state["org_node"], target["node"]])
    from_id, to_id = ids[state["org_node"]], ids[target["node"]]
    if body.kind is TransferKind.temporary:
        assert body.until is not None
        rule = rulebook.get("members.temporary_transfer_months", day)
        shortest, longest = add_months(day, rule.value["min"]), add_months(day, rule.value["max"])
        if not shortest <= body.until <= longest:
            raise rule_violation(
                [
                    finding(
                        rule,
                        f"A temporary transfer from {day.isoformat()} lasts {rule.value['min']} to "
                        f"{rule.value['max']} months (until {shortest.isoformat()} to "
                        f"{longest.isoformat()}), "
                        f"not until {body.until.isoformat()}.",
                    )
                ]
            )
        overlap = await repo.overlapping_temporary(session, member_id, day, body.until)
        if overlap is not None:
            raise Unprocessable(
                f"The member is already temporarily active elsewhere from {overlap['starts_on'].isoformat()} "
                f"until {overlap['until'].isoformat()}.",
                slug="temporary-overlap",
            )
        await repo.insert_temporary(
            session, member_id=member_id, host_org_node=target["node"], starts_on=day, until=body.until
        )
    else:
        await repo.new_state(session, member_id, day, current=state, org_node=target["node"])
    sequence = await repo.bump_version(session, member_id)
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=sequence,
        change="transferred" if body.kind is TransferKind.official else "temporarily_transferred",
        effective_on=day,
        decision_no=body.decision_no,
        reason=None,
        before={"org_id": str(from_id)},
        after={
            "org_id": str(to_id),
            "kind": body.kind.value,
            "until": body.until.isoformat() if body.until else None,
        },
        **_audit(principal),
    )
    await events.transferred(
        session,
        member_id=member_id,
        sequence=sequence,
        from_org_id=from_id,
        to_org_id=to_id,
        kind=body.kind.value,
        effective_on=day,
        until=body.until,
    )
    return await get(session, principal, member_id, day)


async def exempt(
    session: AsyncSession,
    principal: Principal,
    member_id: uuid.UUID,
    body: MemberExempt,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, state = await _writable(session, principal, member_id, "exempt members", check_version)
    day = body.effective_on
    _not_left(state, "an exemption")
    if state["status"] != "official":
        raise Unprocessable(
            f"The member is {state['status']}; only an official member is exempted.", slug="not-official"
        )
    _in_order(ident, state, day, "The exemption")
    await repo.new_state(session, member_id, day, current=state, status="exempt")
    sequence = await repo.bump_version(session, member_id)
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=sequence,
        change="exempted",
        effective_on=day,
        decision_no=body.decision_no,
        reason=body.reason,
        before={"status": "official"},
        after={"status": "exempt"},
        **_audit(principal),
    )
    await events.exempted(session, member_id=member_id, sequence=sequence, effective_on=day)
    return await get(session, principal, member_id, day)


async def depart(
    session: AsyncSession,
    principal: Principal,
    member_id: uuid.UUID,
    body: MemberDepart,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, state = await _writable(session, principal, member_id, "record departures", check_version)
    day = body.effective_on
    _not_left(state, "another departure")
    _in_order(ident, state, day, "The departure")
    await repo.new_state(
        session,
        member_id,
        day,
        current=state,
        event=f"left_{body.reason.value}",
        status="left",
        left_reason=body.reason.value,
    )
    sequence = await repo.bump_version(session, member_id)
    org_id = (await org_repo.ids_of(session, [state["org_node"]]))[state["org_node"]]
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=sequence,
        change="departed",
        effective_on=day,
        decision_no=body.decision_no,
        reason=body.reason.value,
        before={"status": state["status"]},
        after={"status": "left", "left_reason": body.reason.value},
        **_audit(principal),
    )
    await events.departed(
        session,
        member_id=member_id,
        sequence=sequence,
        org_id=org_id,
        reason=body.reason.value,
        effective_on=day,
    )
    return await get(session, principal, member_id, day)


async def rate(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    member_id: uuid.UUID,
    year: int,
    rating: str,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    """Append the year's rating (the latest recorded one is the rating)."""
    ident, _ = await _writable(session, principal, member_id, "rate members", check_version)
    if year < ident["admitted_on"].year:
        raise Unprocessable(
            f"The member was admitted in {ident['admitted_on'].year}; there is no rating for {year}.",
            slug="out-of-order",
        )
    try:
        rule = rulebook.get("members.rating_levels", dt.date(year, 12, 31))
    except RuleNotInForce:
        rule = None  # before the rulebook records the levels, the four levels of the schema hold
    if rule is not None and rating not in rule.value:
        raise rule_violation([finding(rule, f"{rating} is not a rating level in {year}.")])
    previous = await repo.latest_rating(session, member_id, year)
    recorded_at = await repo.insert_rating(
        session, member_id=member_id, year=year, rating=rating, recorded_by=principal.sub
    )
    sequence = await repo.bump_version(session, member_id)
    await repo.record_change(
        session,
        member_id=member_id,
        sequence=sequence,
        change="rated",
        effective_on=dt.date(year, 12, 31),
        decision_no=None,
        reason=None,
        before={"year": year, "rating": previous["rating"]} if previous else None,
        after={"year": year, "rating": rating},
        **_audit(principal),
    )
    await events.rated(session, member_id=member_id, sequence=sequence, year=year, rating=rating)
    return {
        "member_id": str(member_id),
        "year": year,
        "rating": rating,
        "recorded_at": recorded_at,
        "version": sequence,
    }


# ------------------------------------------------------------------ merges and dissolutions carry people


async def active_member_count(session: AsyncSession, node: int, day: dt.date) -> int:
    """Members active (probationary, official, exempt) in the organization on the day or recorded later."""
    return await repo.count_from(session, node, day)


async def move_members(
    session: AsyncSession,
    *,
    from_node: int,
    to_node: int,
    day: dt.date,
    reason: str,
    principal: Principal,
    rulebook: Rulebook,
    decision_no: str | None = None,
) -> int:
    """Officially transfer every active member of ``from_node`` to ``to_node`` from ``day``.

    Used by a merge (sources → target) and by a dissolution with ``transfer_to``: one history entry and one
    ``orgs.member.transferred.v1`` per member. The receiver must be of a level where members are active.
    A member whose state in ``from_node`` began after ``day`` or ended after it (a later recorded change)
    makes the whole operation out of order. Returns how many members moved.
    """
    states = await repo.states_from(session, from_node, day)
    if not states:
        return 0
    receiver = await org_repo.row_at(session, to_node, day)
    assert receiver is not None
    rule = rulebook.get("members.admission_levels", day)
    _refuse(_level_findings(rule, receiver))
    for state in states:
        if state["valid_from"] > day or state["valid_to"] is not None:
            changed = state["valid_to"] if state["valid_to"] is not None else state["valid_from"]
            raise Unprocessable(
                f"Member {state['member_id']} has a change recorded effective {changed.isoformat()}, after "
                f"{day.isoformat()}; members' changes are recorded in date order.",
                slug="out-of-order",
            )
    ids = await org_repo.ids_of(session, [from_node, to_node])
    tally = counts.new_changes()  # the counts of the whole move, written once
    for state in states:
        member_id = state["member_id"]
        current = {k: state[k] for k in repo.S.c.keys()}
        await repo.new_state(session, member_id, day, current=current, tally=tally, org_node=to_node)
        sequence = await repo.bump_version(session, member_id)
        await repo.record_change(
            session,
            member_id=member_id,
            sequence=sequence,
            change="transferred",
            effective_on=day,
            decision_no=decision_no,
            reason=reason,
            before={"org_id": str(ids[from_node])},
            after={"org_id": str(ids[to_node]), "kind": "official", "until": None},
            **_audit(principal),
        )
        await events.transferred(
            session,
            member_id=member_id,
            sequence=sequence,
            from_org_id=ids[from_node],
            to_org_id=ids[to_node],
            kind="official",
            effective_on=day,
            until=None,
        )
    await counts.apply(session, tally)
    return len(states)
