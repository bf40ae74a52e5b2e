"""The training part of the demo province: programmes, courses, enrollments and completions.

Enrollments come in a phase of their own, after the cadres: by then training has the cadres from cadres'
events and need not look each one up. Every cadre of a course level is sent once, on a day of the period,
so the distinct counts per level are the numbers of such cadres.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from services.demo.cadres import Cadre
from services.demo.model import Op, Plan, Ref

SCHOOL = "Trường Chính trị tỉnh Nghệ An"
ACADEMY = "Học viện Chính trị khu vực III"
COMPLETED_BY = dt.date(2022, 2, 28)  # the courses that ended by then have their results recorded
FAIL_EVERY = 40  # one in forty fails


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    kind: str
    theory_level: str | None
    months: int


PROGRAMMES = (
    Programme("TCLLCT", "Trung cấp lý luận chính trị - hành chính", "political_theory", "intermediate", 12),
    Programme("CCLLCT", "Cao cấp lý luận chính trị", "political_theory", "advanced", 20),
    Programme("SCLLCT", "Sơ cấp lý luận chính trị", "political_theory", "elementary", 3),
    Programme("BDCUV", "Bồi dưỡng cấp ủy viên cơ sở", "fostering", None, 1),
)


@dataclass(frozen=True)
class Course:
    key: str
    level: str
    starts_on: dt.date
    ends_on: dt.date
    capacity: int


def build_programmes(plan: Plan) -> None:
    for p in PROGRAMMES:
        body = {"code": p.code, "name": p.name, "kind": p.kind, "duration_months": p.months}
        if p.theory_level:
            body["theory_level"] = p.theory_level
        plan.phase("grassroots").ops.append(
            Op("training", "programme", "POST", "/programmes", body, key=f"programme:{p.code}")
        )


def _course(plan: Plan, programme: Programme, n: int, start: dt.date, capacity: int, provider: str) -> Course:
    ends = start + dt.timedelta(days=30 * programme.months - 10)
    key = f"course:{programme.code}-{n}"
    body = {
        "programme_id": Ref(f"programme:{programme.code}"), "code": f"{programme.code}-K{n:02d}",
        "name": f"Lớp {programme.name} K{n:02d}", "provider": provider, "mode": "in_service",
        "starts_on": start, "ends_on": ends, "capacity": capacity,
    }  # fmt: skip
    plan.phase("cells").ops.append(Op("training", "course", "POST", "/courses", body, key=key))
    return Course(key, programme.theory_level or programme.code, start, ends, capacity)


def _courses(plan: Plan, programme: Programme, count: int, capacity: int, provider: str) -> list[Course]:
    """``count`` courses starting evenly from January 2021 to January 2023."""
    first, last = dt.date(2021, 1, 11), dt.date(2023, 1, 9)
    step = (last - first) / max(count - 1, 1)
    return [_course(plan, programme, n + 1, first + step * n, capacity, provider) for n in range(count)]


def enroll(plan: Plan, cadres: list[Cadre], rng: random.Random) -> None:
    intermediate = [c for c in cadres if c.level == "intermediate"]
    advanced = [c for c in cadres if c.level == "advanced"]
    _send(plan, _courses(plan, PROGRAMMES[0], -(-len(intermediate) // 100), 100, SCHOOL), intermediate, rng)
    _send(plan, _courses(plan, PROGRAMMES[1], 5, 90, ACADEMY), advanced, rng)
    designated = [c for c in cadres if any(op.body.get("kind") == "designation" for op in c.op.then)]
    fostering = _course(plan, PROGRAMMES[3], 1, dt.date(2022, 8, 8), 60, SCHOOL)
    _send(plan, [fostering], designated, rng)


def _send(plan: Plan, courses: list[Course], cadres: list[Cadre], rng: random.Random) -> None:
    for i, cadre in enumerate(cadres):
        course = courses[i // courses[0].capacity]
        # Sent ten days before the course starts; the first course's on the period's first day.
        sent = max(course.starts_on - dt.timedelta(days=10), dt.date(2021, 1, 1))
        if course is courses[-1]:
            sent = min(sent, dt.date(2022, 12, 31))
        key = f"enrollment:{cadre.key}:{course.key}"
        body = {"course_id": Ref(course.key), "cadre_id": Ref(cadre.key), "sent_by_org_id": Ref(cadre.sends),
                "sent_on": sent}  # fmt: skip
        op = Op("training", "enrollment", "POST", "/enrollments", body, key=key)
        if course.ends_on <= COMPLETED_BY:
            failed = i % FAIL_EVERY == FAIL_EVERY - 1
            result = {"completed_on": course.ends_on, "result": "failed" if failed else "completed"}
            if not failed:
                result["certificate_no"] = f"{course.key.split(':')[1]}/{i:04d}"
            op.then.append(Op("training", "completion", "POST", f"/enrollments/{{{key}}}/completion", result))
        plan.phase("training").ops.append(op)
