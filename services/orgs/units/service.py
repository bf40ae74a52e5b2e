"""The rules of residential units and the coverage report. Functions take the session and never commit.

A unit lies in a commune-level organization (rulebook ``units.commune_kinds``) and may be covered by a Party
cell inside that commune's subtree (``units.covering_levels``), both checked on the effective date. Changes
are effective-dated and appended, in date order; the caller sees a unit when its commune organization lies
in the caller's subtree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.organizations import repository as org_repo
from services.orgs.organizations.service import WRITE_ROLES, _visible, scope_path, within_scope
from services.orgs.units import repository as repo
from services.orgs.units.schemas import ResidentialUnitCreate, ResidentialUnitUpdate
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Finding, Rulebook, finding, rule_violation
from shared.text import like_pattern, normalize

VersionCheck = Callable[[int], None]


# ------------------------------------------------------------------------------------------------ reads


async def to_reads(session: AsyncSession, rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Rows as API dicts, organization nodes resolved to ids (one query)."""
    nodes = {r["commune_node"] for r in rows} | {r["covering_node"] for r in rows if r["covering_node"]}
    ids = await org_repo.ids_of(session, nodes)
    return [
        {
            "id": str(r["id"]),
            "name": r["name"],
            "kind": r["kind"],
            "commune_org_id": str(ids[r["commune_node"]]),
            "covering_org_id": str(ids[r["covering_node"]]) if r["covering_node"] else None,
            "established_on": r["established_on"].isoformat(),
            "state_since": r["valid_from"].isoformat(),
            "version": r["version"],
        }
        for r in rows
    ]


async def _visible_unit(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID
) -> tuple[RowMapping, str | None]:
    """The unit's identity if its commune organization lies in the caller's subtree; 404 otherwise."""
    ident = await repo.identity(session, unit_id)
    scope = await scope_path(session, principal)
    if ident is not None:
        current = await repo.current_row(session, unit_id)
        commune = await org_repo.current_row(session, current["commune_node"]) if current else None
        if commune is not None and within_scope(commune["path"], scope):
            return ident, scope
    raise NotFound("residential unit", f"No residential unit {unit_id}.")


async def get(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID, day: dt.date
) -> dict[str, Any]:
    await _visible_unit(session, principal, unit_id)
    row = await repo.row_at(session, unit_id, day)
    if row is None:
        raise NotFound(
            "residential unit", f"Residential unit {unit_id} was not recorded on {day.isoformat()}."
        )
    return (await to_reads(session, [row]))[0]


async def _within_path(
    session: AsyncSession, principal: Principal, within: uuid.UUID | None, day: dt.date
) -> str | None:
    if within is None:
        return None
    ident, _ = await _visible(session, principal, within)
    row = await org_repo.row_at(session, ident["node"], day)
    if row is None:
        raise NotFound("organization", f"Organization {within} did not exist on {day.isoformat()}.")
    return str(row["path"])


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    day: dt.date,
    within: uuid.UUID | None,
    commune_org_id: uuid.UUID | None,
    q: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Units recorded on the day, ordered by name (diacritics ignored), then id; ``limit + 1`` at most."""
    scope = await scope_path(session, principal)
    within_path = await _within_path(session, principal, within, day)
    commune_node = None
    if commune_org_id is not None:
        commune_node = (await _visible(session, principal, commune_org_id))[0]["node"]
    rows = await repo.list_rows(
        session,
        day=day,
        within_path=within_path,
        scope_path=scope,
        commune_node=commune_node,
        q_pattern=like_pattern(q) if q else None,
        after=after,
        limit=limit,
    )
    reads = await to_reads(session, rows)
    for read, row in zip(reads, rows, strict=True):
        read["_sort"] = [row["name_search"], read["id"]]  # the cursor key; dropped by the router
    return reads


async def coverage(
    session: AsyncSession, principal: Principal, *, day: dt.date, within: uuid.UUID | None
) -> dict[str, Any]:
    """Units of the communes within the subtree on the day: those no active cell covers, those without
    a resident Party member."""
    scope = await scope_path(session, principal)
    within_path = await _within_path(session, principal, within, day)
    rows = await repo.coverage_rows(session, day=day, within_path=within_path, scope_path=scope)
    uncovered = [r for r in rows if not r["covered"]]
    uninhabited = [r for r in rows if not r["inhabited"]]
    return {
        "as_of": day.isoformat(),
        "units": len(rows),
        "without_cell": await to_reads(session, uncovered),
        "without_members": await to_reads(session, uninhabited),
    }


# ---------------------------------------------------------------------------------------------- writing


async def _organization(session: AsyncSession, org_id: uuid.UUID, scope: str | None, role: str) -> RowMapping:
    """The organization a unit refers to (its identity): unknown 422, outside the caller's subtree 403."""
    ident = await org_repo.identity_with_current_path(session, org_id)  # one query
    if ident is None:
        raise Unprocessable(f"No organization {org_id} (the {role}).", slug="unknown-organization")
    if not within_scope(ident["current_path"], scope):
        raise Problem(403, f"The {role} organization is outside your scope.", slug="forbidden")
    return ident


async def _placement_findings(
    session: AsyncSession,
    rulebook: Rulebook,
    commune: RowMapping,
    covering: RowMapping | None,
    day: dt.date,
) -> list[Finding]:
    """The unit's commune and covering cell against the rules in force on the day."""
    found: list[Finding] = []
    on = day.isoformat()
    kinds_rule = rulebook.get("units.commune_kinds", day)
    kinds: list[str] = list(kinds_rule.value)
    commune_row = await org_repo.row_at(session, commune["node"], day)
    if commune_row is None or commune_row["status"] != "active":
        found.append(finding(kinds_rule, f"Organization {commune['code']} is not active on {on}."))
    elif commune_row["kind"] not in kinds:
        found.append(
            finding(
                kinds_rule,
                f"{commune['code']} is of kind {commune_row['kind']}; a residential unit lies in an "
                f"organization of kind {', '.join(kinds)}.",
            )
        )
    if covering is None:
        return found
    levels_rule = rulebook.get("units.covering_levels", day)
    levels: list[str] = list(levels_rule.value)
    cell = await org_repo.row_at(session, covering["node"], day)
    if cell is None or cell["status"] != "active":
        found.append(finding(levels_rule, f"Organization {covering['code']} is not active on {on}."))
        return found
    if cell["level"] not in levels:
        found.append(
            finding(
                levels_rule,
                f"{covering['code']} is a {cell['level']}; a residential unit is covered by a "
                f"{' or a '.join(levels)}.",
            )
        )
    if commune_row is not None and not cell["path"].startswith(commune_row["path"]):
        found.append(
            finding(
                levels_rule,
                f"{covering['code']} does not lie under {commune['code']} on {on}; the covering cell "
                "belongs to the unit's commune.",
            )
        )
    return found


def _audit(principal: Principal) -> dict[str, Any]:
    return {"recorded_by": principal.sub, "request_id": request_id_var.get()}


async def create(
    session: AsyncSession, principal: Principal, rulebook: Rulebook, body: ResidentialUnitCreate
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="record residential units")
    day = body.established_on or dt.date.today()
    scope = await scope_path(session, principal)
    commune = await _organization(session, body.commune_org_id, scope, "commune")
    covering = None
    if body.covering_org_id is not None:
        covering = await _organization(session, body.covering_org_id, scope, "covering")
    findings = await _placement_findings(session, rulebook, commune, covering, day)
    if findings:
        raise rule_violation(findings)
    unit_id = uuid.uuid4()
    await repo.insert_unit(session, unit_id=unit_id, established_on=day, recorded_by=principal.sub)
    await repo.insert_state(
        session,
        unit_id=unit_id,
        valid_from=day,
        valid_to=None,
        name=body.name,
        name_search=normalize(body.name),
        kind=body.kind.value,
        commune_node=commune["node"],
        covering_node=covering["node"] if covering else None,
        **_audit(principal),
    )
    return await get(session, principal, unit_id, day)


async def update(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    unit_id: uuid.UUID,
    body: ResidentialUnitUpdate,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, scope = await _visible_unit(session, principal, unit_id)
    require_role(principal, *WRITE_ROLES, action="change residential units")
    if check_version is not None:
        check_version(ident["version"])
    day = body.effective_on
    current = await repo.current_row(session, unit_id)
    assert current is not None
    if day < current["valid_from"]:
        raise Unprocessable(
            f"The change is effective on {day.isoformat()}, before the unit's latest recorded state "
            f"(from {current['valid_from'].isoformat()}); changes are recorded in date order.",
            slug="out-of-order",
        )
    given = body.model_fields_set
    state: dict[str, Any] = {}
    if body.name is not None and body.name != current["name"]:
        state.update(name=body.name, name_search=normalize(body.name))
    if body.kind is not None and body.kind.value != current["kind"]:
        state["kind"] = body.kind.value
    commune_node = current["commune_node"]
    if "commune_org_id" in given and body.commune_org_id is not None:
        commune_node = (await _organization(session, body.commune_org_id, scope, "commune"))["node"]
    covering_node = current["covering_node"]
    if "covering_org_id" in given:
        covering_node = None
        if body.covering_org_id is not None:
            covering_node = (await _organization(session, body.covering_org_id, scope, "covering"))["node"]
    if commune_node != current["commune_node"]:
        state["commune_node"] = commune_node
    if covering_node != current["covering_node"]:
        state["covering_node"] = covering_node
    if not state:
        raise Unprocessable("Nothing changes: every given field already has that value.", slug="no-change")
    if "commune_node" in state or "covering_node" in state:
        idents = {
            n: await repo.organization_of_node(session, n)
            for n in {commune_node, covering_node}
            if n is not None
        }
        findings = await _placement_findings(
            session, rulebook, idents[commune_node], idents.get(covering_node) if covering_node else None, day
        )
        if findings:
            raise rule_violation(findings)
    await repo.new_state(session, unit_id, day, **state, **_audit(principal))
    await repo.bump_version(session, unit_id)
    return await get(session, principal, unit_id, day)
