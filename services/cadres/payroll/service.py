"""Payroll: set an organization's allocated and actual headcount for a year and category (append-only; the
latest entry wins), and the streamlining rate of a subtree against a baseline year (Kết luận 40-KL/TW).

The rate is computed with exact decimals and rounded half-up to 4 places (10.02 % is 0.1002); the target
is the ``payroll.streamlining_target`` in force on the last day of the year.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.payroll import repository as repo
from services.cadres.payroll.schemas import PayrollCategory, PayrollSet
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.outbox import record_event
from shared.problems import NotFound
from shared.rulebook import Rulebook, RuleNotInForce

WRITE_ROLES = ("personnel",)
RATE_PLACES = Decimal("0.0001")
DEFAULT_BASELINE_YEAR = 2021


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "org_id": str(row["org_id"]), "org_name": row["org_name"], "year": row["year"],
        "category": row["category"], "allocated": row["allocated"], "actual": row["actual"],
        "recorded_at": row["recorded_at"], "recorded_by": row["recorded_by"], "version": row["version"],
    }  # fmt: skip


async def _visible_org(
    session: AsyncSession, request: Request, principal: Principal, org_id: uuid.UUID
) -> RowMapping:
    org = await require_org(session, request, org_id)
    if not within(org["path"], await scope_path(session, principal)):
        raise NotFound("organization", f"No organization {org_id}.")
    return org


async def set_entry(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    *,
    org_id: uuid.UUID,
    year: int,
    category: PayrollCategory,
    body: PayrollSet,
    check_version: Callable[[int], None],
) -> dict[str, Any]:
    await _visible_org(session, request, principal, org_id)
    require_role(principal, *WRITE_ROLES, action="set payroll")
    current = await repo.latest(session, org_id, year, category.value)
    check_version(current["version"] if current is not None else 0)
    await repo.insert_entry(
        session,
        org_id=org_id,
        year=year,
        category=category.value,
        allocated=body.allocated,
        actual=body.actual,
        recorded_by=principal.sub,
        request_id=request_id_var.get(),
    )
    # The organization's payroll is the aggregate: one more entry, one more version.
    await record_event(
        session,
        service="cadres",
        type="cadres.payroll.set.v1",
        subject=str(org_id),
        sequence=await repo.entries_of_org(session, org_id),
        data={
            "org_id": str(org_id),
            "year": year,
            "category": category.value,
            "allocated": body.allocated,
            "actual": body.actual,
        },
    )
    row = await repo.latest(session, org_id, year, category.value)
    assert row is not None
    return to_read(row)


async def get_entry(
    session: AsyncSession, request: Request, principal: Principal, org_id: uuid.UUID, year: int, category: str
) -> RowMapping:
    await _visible_org(session, request, principal, org_id)
    row = await repo.latest(session, org_id, year, category)
    if row is None:
        raise NotFound("payroll entry", f"No payroll of {category} set for {year} in this organization.")
    return row


def rate_of(baseline: int, allocated: int) -> Decimal | None:
    if baseline == 0:
        return None
    return ((Decimal(baseline) - Decimal(allocated)) / Decimal(baseline)).quantize(RATE_PLACES, ROUND_HALF_UP)


async def streamlining(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    rulebook: Rulebook,
    *,
    within_org: uuid.UUID | None,
    baseline_year: int | None,
    year: int,
) -> dict[str, Any]:
    scope = await scope_path(session, principal)
    within_path = None
    if within_org is not None:
        within_path = (await _visible_org(session, request, principal, within_org))["path"]
    try:
        rule = rulebook.get("payroll.streamlining_target", dt.date(year, 12, 31))
    except RuleNotInForce:
        rule = None
    if baseline_year is None:
        baseline_year = (
            int(rule.value.get("baseline_year", DEFAULT_BASELINE_YEAR)) if rule else DEFAULT_BASELINE_YEAR
        )
    sums = await repo.allocated_sums(
        session, years=[baseline_year, year], scope_path=scope, within_path=within_path
    )
    report: dict[str, Any] = {}
    for category in PayrollCategory:
        baseline = sums.get((baseline_year, category.value), 0)
        allocated = sums.get((year, category.value), 0)
        rate = rate_of(baseline, allocated)
        target = Decimal(str(rule.value[category.value])) if rule and category.value in rule.value else None
        report[category.value] = {
            "baseline_year": baseline_year,
            "year": year,
            "baseline": baseline,
            "allocated": allocated,
            "rate": float(rate) if rate is not None else None,
            "target": float(target) if target is not None else None,
            "met": rate >= target if rate is not None and target is not None else None,
        }
    return report
