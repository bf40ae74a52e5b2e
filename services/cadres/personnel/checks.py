"""The rulebook's checks of a personnel action: findings, never refusals (the service decides what to refuse).

Each check reads its rule in force on the action's effective date; a rule not in force then is not checked.

| rule | kinds |
|---|---|
| ``planning.required_for_appointment`` | appointment, rotation |
| ``appointments.min_years_in_current_post`` (or the post's longer requirement) | appointment, rotation |
| ``appointments.full_term_before_age_limit`` (ages: ``cadres.retirement_age``) | appointment |
| ``appointments.free_seat`` | every kind that starts an assignment |
| ``appointments.disciplinary_bar`` | appointment, reappointment, rotation, designation |
| ``appointments.reappointment_notice`` (a warning) | reappointment |
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.personnel import repository as repo
from services.cadres.personnel.schemas import STARTS, ActionKind
from shared.rulebook import Finding, Rulebook, finding

Row = Mapping[str, Any]  # a row as read (a RowMapping, or a dict built from a joined row)

PLANNED = frozenset({ActionKind.appointment, ActionKind.rotation})
TENURED = frozenset({ActionKind.appointment, ActionKind.rotation})
FULL_TERM = frozenset({ActionKind.appointment})
BARRED = frozenset(
    {ActionKind.appointment, ActionKind.reappointment, ActionKind.rotation, ActionKind.designation}
)


# ------------------------------------------------------------------------------------------------ dates


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has no such day: 29 Feb + 1 year)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def term_last_day(starts_on: dt.date, years: int) -> dt.date:
    """A term of ``years`` from ``starts_on`` ends the day before the same date ``years`` later."""
    return add_years(starts_on, years) - dt.timedelta(days=1)


def minus_working_days(day: dt.date, count: int) -> dt.date:
    """``count`` working days (Monday to Friday) before ``day``. Public holidays are not counted out."""
    while count > 0:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def retirement_day(rulebook: Rulebook, birth_date: dt.date, gender: str, from_day: dt.date) -> dt.date | None:
    """The first day on or after ``from_day`` on which the cadre has reached the retirement age in force then.

    The ages of ``cadres.retirement_age`` never go down, so stepping to the day the age in force would be
    reached, and checking the rule in force on that day, finds it.
    """
    day = from_day
    for _ in range(100):
        rule = rulebook.find("cadres.retirement_age", day)
        if rule is None:
            return None
        years, months = rule.value[gender]
        reached = add_months(birth_date, 12 * int(years) + int(months))
        if reached <= day:
            return day
        later = rulebook.find("cadres.retirement_age", reached)
        if later is None or later.valid_from == rule.valid_from:
            return reached
        day = reached
    return day


# ----------------------------------------------------------------------------------------------- checks


@dataclass
class Proposal:
    """What the action would do, as the service worked it out."""

    kind: ActionKind
    cadre: Row
    post: Row | None
    effective_on: dt.date
    decided_on: dt.date
    current: list[Row]  # the cadre's assignments in force on effective_on
    history: list[Row] = field(default_factory=list)  # all the cadre's assignments, by start
    ending: list[Row] = field(default_factory=list)
    renewed: Row | None = None  # reappointment: the assignment whose term is renewed
    term_ends_on: dt.date | None = None  # of the assignment it would start


async def findings_for(session: AsyncSession, rulebook: Rulebook, p: Proposal) -> list[Finding]:
    found: list[Finding] = []
    day = p.effective_on
    post = p.post
    if post is not None and p.kind in PLANNED:
        rule = rulebook.find("planning.required_for_appointment", day)
        if rule is not None and rule.value and not await _in_plan(session, p, post):
            found.append(
                finding(
                    rule,
                    f"{p.cadre['full_name']} is not in the succession plan for {post['title']} "
                    f"on {day.isoformat()}.",
                )
            )
    if post is not None and p.kind in TENURED:
        found += await _tenure(session, rulebook, p, post)
    if p.kind in FULL_TERM:
        found += _full_term(rulebook, p)
    if post is not None and p.kind in STARTS:
        rule = rulebook.find("appointments.free_seat", day)
        if rule is not None and rule.value:
            held = await _holders(session, p, post)
            if held >= post["seats"]:
                found.append(
                    finding(
                        rule,
                        f"{post['title']} has {post['seats']} seat(s), all held on {day.isoformat()}.",
                    )
                )
    if p.kind in BARRED:
        found += await _disciplines(session, rulebook, p)
    if p.kind is ActionKind.reappointment and p.renewed is not None and p.renewed["term_ends_on"]:
        rule = rulebook.find("appointments.reappointment_notice", day)
        if rule is not None:
            deadline = minus_working_days(p.renewed["term_ends_on"], int(rule.value))
            if p.decided_on > deadline:
                found.append(
                    finding(
                        rule,
                        f"The reappointment is decided on {p.decided_on.isoformat()}, later than "
                        f"{rule.value} working days before the term ends on "
                        f"{p.renewed['term_ends_on'].isoformat()} (by {deadline.isoformat()}).",
                        severity="warning",
                    )
                )
    return found


async def _tenure(session: AsyncSession, rulebook: Rulebook, p: Proposal, post: Row) -> list[Finding]:
    rule = rulebook.find("appointments.min_years_in_current_post", p.effective_on)
    if rule is None:
        return []
    held = [a for a in p.current if a["post_id"] != post["id"]]
    if not held:
        return []  # a first post: nothing to have served in
    required = max(int(rule.value), post["min_years_in_prior_post"] or 0)
    since = min(repo.tenure_start(p.history, a) for a in held)
    if add_years(since, required) <= p.effective_on:
        return []
    which = "the rulebook" if required == int(rule.value) else f"{post['title']}'s requirements"
    return [
        finding(
            rule,
            f"{p.cadre['full_name']} has held the current post since {since.isoformat()}: less than "
            f"{required} years on {p.effective_on.isoformat()} (as {which} require).",
        )
    ]


async def _in_plan(session: AsyncSession, p: Proposal, post: Row) -> bool:
    """The cadre is in the post's succession plan on the day: as the post's row read for the action says
    (``in_plan``), else asked."""
    if "in_plan" in post:
        return bool(post["in_plan"])
    return await repo.in_plan(session, p.cadre["id"], post["id"], p.effective_on)


async def _holders(session: AsyncSession, p: Proposal, post: Row) -> int:
    """Holders of the post on the day, besides the assignments the action ends. The post's row read for the
    same day already counts them (``holders``); the assignments ended are in force that day, so those of
    this post are among them."""
    if "holders" not in post:
        return await repo.holders(session, post["id"], p.effective_on, besides=[a["id"] for a in p.ending])
    return int(post["holders"]) - len({a["id"] for a in p.ending if a["post_id"] == post["id"]})


def _full_term(rulebook: Rulebook, p: Proposal) -> list[Finding]:
    rule = rulebook.find("appointments.full_term_before_age_limit", p.effective_on)
    if rule is None:
        return []
    retires = retirement_day(rulebook, p.cadre["birth_date"], p.cadre["gender"], p.effective_on)
    needed = add_years(p.effective_on, int(rule.value))
    if retires is None or retires >= needed:
        return []
    return [
        finding(
            rule,
            f"{p.cadre['full_name']} reaches the retirement age on {retires.isoformat()}, before serving "
            f"{rule.value} years from {p.effective_on.isoformat()} (until {needed.isoformat()}).",
        )
    ]


async def _disciplines(session: AsyncSession, rulebook: Rulebook, p: Proposal) -> list[Finding]:
    rule = rulebook.find("appointments.disciplinary_bar", p.effective_on)
    if rule is None:
        return []
    if p.cadre.get("disciplines", 1) == 0:  # the cadre's row says it has none: nothing to read
        return []
    months: dict[str, Any] = rule.value
    found = []
    for d in await repo.disciplines_of(session, p.cadre["id"], p.effective_on):
        barred_until = add_months(d["decided_on"], int(months.get(d["measure"], 0)))
        if p.effective_on < barred_until:
            found.append(
                finding(
                    rule,
                    f"A {d['measure']} decided on {d['decided_on'].isoformat()} bars an appointment until "
                    f"{barred_until.isoformat()} ({months[d['measure']]} months).",
                )
            )
    return found
