"""Annual ratings of organizations and the threshold report. Functions take the session and never commit.

A rating is a change of the organization: it bumps the organization's version (the event's ``sequence``)
and appears in its history. Ratings are appended; the latest recorded one of a year is in force.

The threshold report counts members on a date in their home organization and evaluates the rulebook's
thresholds (Party Charter art. 21 and 24; Regulation 294-QĐ/TW) for the organization and every active
grassroots organization and cell of its subtree. It reports; it never refuses anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.organizations import repository as org_repo
from services.orgs.organizations.service import VersionCheck, _visible, _writable
from services.orgs.ratings import events
from services.orgs.ratings import repository as repo
from services.orgs.ratings.schemas import RatingSet
from shared.auth import Principal
from shared.logs import request_id_var
from shared.problems import NotFound, Unprocessable
from shared.rulebook import Rule, Rulebook, RuleNotInForce, finding

FIRST_YEAR = 1930  # the founding of the Party
GRASSROOTS = ("grassroots_committee", "grassroots_cell")
CELLS = ("grassroots_cell", "cell")
THRESHOLD_LEVELS = ("grassroots_committee", "grassroots_cell", "cell")


def _read(org_id: uuid.UUID, row: RowMapping, version: int) -> dict[str, Any]:
    return {
        "org_id": str(org_id),
        "year": row["year"],
        "rating": row["rating"],
        "recorded_at": row["recorded_at"],
        "recorded_by": row["recorded_by"],
        "version": version,
    }


async def rate(
    session: AsyncSession,
    principal: Principal,
    org_id: uuid.UUID,
    year: int,
    body: RatingSet,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    """Set the organization's rating of ``year``; the same rating again changes nothing (PUT)."""
    ident, _ = await _writable(session, principal, org_id, "rate organizations", check_version)
    last_year = dt.date.today().year + 1
    if not FIRST_YEAR <= year <= last_year:
        raise Unprocessable(f"A rating is for a year from {FIRST_YEAR} to {last_year}.", slug="invalid-year")
    node = ident["node"]
    if not await repo.active_between(session, node, dt.date(year, 1, 1), dt.date(year + 1, 1, 1)):
        raise Unprocessable(f"Organization {ident['code']} was not active in {year}.", slug="not-active")
    previous = await repo.latest(session, node, year)
    if previous is not None and previous["rating"] == body.rating.value:
        return _read(org_id, previous, ident["version"])
    row = await repo.insert_rating(
        session,
        org_node=node,
        year=year,
        rating=body.rating.value,
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    sequence = await org_repo.bump_version(session, node)
    await org_repo.record_change(
        session,
        node=node,
        sequence=sequence,
        change="rated",
        effective_on=dt.date.today(),
        decision_no=None,
        decided_on=None,
        reason=None,
        before={"year": year, "rating": previous["rating"]} if previous else None,
        after={"year": year, "rating": body.rating.value},
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    await events.rated(session, org_id=org_id, sequence=sequence, year=year, rating=body.rating.value)
    return _read(org_id, row, sequence)


async def ratings(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> list[dict[str, Any]]:
    ident, _ = await _visible(session, principal, org_id)
    return [_read(org_id, row, ident["version"]) for row in await repo.in_force(session, ident["node"])]


# ------------------------------------------------------------------------------------------ the report


def _rule(rulebook: Rulebook, rule_id: str, day: dt.date) -> Rule | None:
    try:
        return rulebook.get(rule_id, day)
    except RuleNotInForce:
        return None  # the threshold did not exist yet on that day: nothing to report against it


def _threshold_findings(
    rulebook: Rulebook, row: RowMapping, members: Counter[str], day: dt.date
) -> list[dict[str, Any]]:
    """The thresholds one active organization breaks on the day (as warnings: reported, not refused)."""
    level, code = row["level"], row["code"]
    official = members["official"]
    total = sum(members.values())
    found = []
    min_official = _rule(rulebook, "organizations.min_official_members", day)
    if min_official is not None and level in THRESHOLD_LEVELS and official < min_official.value:
        found.append(
            finding(
                min_official,
                f"{code} has {official} official member(s); a grassroots organization or a cell needs at "
                f"least {min_official.value}.",
                "warning",
            )
        )
    committee = _rule(rulebook, "organizations.grassroots_committee_min_members", day)
    if committee is not None and level == "grassroots_cell" and total >= committee.value:
        found.append(
            finding(
                committee,
                f"{code} is a grassroots cell with {total} members; with {committee.value} or more it should "
                "be a grassroots committee.",
                "warning",
            )
        )
    if committee is not None and level == "grassroots_committee" and total < committee.value:
        found.append(
            finding(
                committee,
                f"{code} is a grassroots committee with {total} members; with fewer than {committee.value} "
                "a grassroots organization is a grassroots cell.",
                "warning",
            )
        )
    cell_committee = _rule(rulebook, "organizations.cell_committee_min_official_members", day)
    if cell_committee is not None and level in CELLS and official >= cell_committee.value:
        found.append(
            finding(
                cell_committee,
                f"{code} has {official} official members; a cell with {cell_committee.value} or more elects "
                "a cell committee.",
                "warning",
            )
        )
    return [{**f.model_dump(), "org_id": str(row["id"]), "org_code": code} for f in found]


async def stats(
    session: AsyncSession, principal: Principal, rulebook: Rulebook, org_id: uuid.UUID, day: dt.date
) -> dict[str, Any]:
    ident, _ = await _visible(session, principal, org_id)
    root = await org_repo.row_at(session, ident["node"], day)
    if root is None:
        raise NotFound("organization", f"Organization {org_id} did not exist on {day.isoformat()}.")
    rows = await org_repo.subtree(session, root["path"], day, statuses=("active",))
    # Each organization's members are those of its whole subtree: add every count to all its ancestors.
    totals: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for path, by_status in (await repo.member_counts(session, root["path"], day)).items():
        for node in org_repo.path_nodes(path):
            totals[node].update(by_status)
    own = totals[root["node"]]
    findings: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r["code"]):
        findings += _threshold_findings(rulebook, row, totals[row["node"]], day)
    descendants = [r for r in rows if r["node"] != root["node"]]
    return {
        "id": str(org_id),
        "as_of": day.isoformat(),
        "members_by_status": {s: own[s] for s in ("probationary", "official", "exempt")},
        "children_by_level": dict(
            Counter(r["level"] for r in descendants if r["parent_node"] == root["node"])
        ),
        "descendants_by_level": dict(Counter(r["level"] for r in descendants)),
        "findings": findings,
    }
