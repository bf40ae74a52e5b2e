"""The whole demo province as one :class:`Plan`, and the sector report figures the plan will produce."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

from services.demo import training
from services.demo.cadres import PUBLIC_EMPLOYEES, CadresBuilder
from services.demo.model import ENTERPRISE_KINDS, PERIOD_FROM, PERIOD_TO, Plan, in_period
from services.demo.names import People
from services.demo.orgs import OrgsBuilder, build_documents, enterprise_figures

SEED = 20230101
ADVANCED = 441
INTERMEDIATE = 2945
SENIORS = 24
PHASES = ("province", "committees", "grassroots", "cells", "people", "training")
MOVED_OR_APPOINTED = ("transfer", "rotation", "secondment", "arrangement", "appointment", "reappointment")


def build_plan(seed: int = SEED) -> Plan:
    rng = random.Random(seed)
    people = People(rng)
    plan = Plan()
    for name in PHASES:
        plan.phase(name)
    orgs = OrgsBuilder(plan, rng, people)
    orgs.build_tree()
    build_documents(plan, rng, people)
    orgs.build_members()
    orgs.build_units()
    orgs.build_ratings()
    cadres = CadresBuilder(plan, rng, people, orgs)
    cadres.build_personnel(cadres.build_posts())
    cadres.fill(ADVANCED, INTERMEDIATE, SENIORS)
    cadres.build_payroll()
    training.build_programmes(plan)
    training.enroll(plan, cadres.cadres, rng)
    _interleave(plan)
    return plan


def _interleave(plan: Plan) -> None:
    """Spread each service's requests evenly over the big phase, so all services work at once."""
    phase = plan.phase("people")
    by_service: dict[str, list[Any]] = defaultdict(list)
    for op in phase.ops:
        by_service[op.service + op.what].append(op)
    keyed = [(i / len(ops), n, op) for n, ops in enumerate(by_service.values()) for i, op in enumerate(ops)]
    phase.ops = [op for _, _, op in sorted(keyed, key=lambda t: (t[0], t[1]))]


def expected_report(plan: Plan) -> dict[str, Any]:
    """The sector report's figures for 2021-01-01..2022-12-31 that the plan will produce, worked out from the
    requests it holds (an independent reading of the definitions in api.md, for the unit test)."""
    documents = Counter(
        op.body["kind"] for op in plan.walk() if op.what == "document" and in_period(op.body["issued_on"])
    )
    actions = [
        op.body for op in plan.walk() if op.what.startswith("action:") and in_period(op.body["decided_on"])
    ]
    distinct: dict[str, set[str]] = defaultdict(set)
    for body in actions:
        distinct[body["kind"]].add(body["cadre_id"].key)
    moved = set().union(*(distinct[k] for k in MOVED_OR_APPOINTED))
    sent: dict[str, set[str]] = defaultdict(set)
    levels = {op.key: _course_level(op.body) for op in plan.walk() if op.what == "course"}
    for op in plan.walk():
        level = levels.get(op.body["course_id"].key) if op.what == "enrollment" else None
        if level is not None and in_period(op.body["sent_on"]):
            sent[level].add(op.body["cadre_id"].key)
    enterprises = enterprise_figures(plan)
    baseline, year = PUBLIC_EMPLOYEES
    return {
        "documents": dict(documents),
        "enterprise_grassroots_established": enterprises["established"],
        "enterprise_members_admitted": enterprises["admitted"],
        "enterprise_grassroots_active_at_end": enterprises["active_at_end"],
        "cadres_moved_or_appointed": len(moved),
        "candidate_introduction_cadres": len(distinct["candidate_introduction"]),
        "designation_cadres": len(distinct["designation"]),
        "appointment_opinion_actions": sum(1 for b in actions if b["kind"] == "appointment_opinion"),
        "sent_advanced": len(sent["advanced"]),
        "sent_intermediate": len(sent["intermediate"]),
        "public_employee": _payroll(plan, "public_employee"),
        "public_employee_planned": (baseline, year),
        "period": (PERIOD_FROM, PERIOD_TO),
        "enterprise_kinds": sorted(ENTERPRISE_KINDS),
    }


def _course_level(body: dict[str, Any]) -> str | None:
    code = body["programme_id"].key.split(":")[1]
    return next(p.theory_level for p in training.PROGRAMMES if p.code == code)


def _payroll(plan: Plan, category: str) -> tuple[int, int]:
    totals: Counter[int] = Counter()
    for op in plan.walk():
        if op.what == "payroll" and op.path.endswith(f"/{category}"):
            totals[int(op.path.split("/")[-2])] += op.body["allocated"]
    return totals[2021], totals[2022]
