"""Personnel actions: their effect on assignments, the rulebook's findings, appointments due, scope, events.

Plans and disciplines are written straight into their tables (lightweight table constructs, created here when
the planning/disciplines migration is not in the database yet), so these tests do not depend on the planning
and disciplines APIs and their own rules.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
)
from sqlalchemy import event as sa_event

from services.cadres.assignments.models import Assignment
from services.cadres.personnel.checks import minus_working_days
from services.cadres.personnel.models import PersonnelAction
from services.cadres.tests.conftest import add_org
from shared.outbox import outbox

_foreign = MetaData()
PLANS = Table(
    "plans",
    _foreign,
    Column("id", Uuid, primary_key=True),
    Column("cadre_id", Uuid, nullable=False),
    Column("post_id", Uuid, nullable=False),
    Column("term", String(9), nullable=False),
    Column("added_on", Date, nullable=False),
    Column("removed_on", Date),
    Column("removal_reason", String(1000)),
    Column("findings", JSON, nullable=False),
    Column("acknowledged_reason", String(1000)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(200)),
)
DISCIPLINES = Table(
    "disciplines",
    _foreign,
    Column("id", Uuid, primary_key=True),
    Column("cadre_id", Uuid, nullable=False),
    Column("measure", String(32), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("decision_no", String(100), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(200)),
)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class World:
    """Two districts under a province, posts in them, and helpers to act as province personnel."""

    def __init__(self, orgs: Any, cadres: Any) -> None:
        self.orgs, self.cadres = orgs, cadres
        self.headers = cadres.auth(["personnel"])
        self.org: dict[str, str] = {}
        self.post: dict[str, str] = {}

    async def build(self) -> World:
        async with self.cadres.app.state.db.transaction() as s:
            await (await s.connection()).run_sync(_foreign.create_all, checkfirst=True)
        self.org["NA"] = await add_org(self.orgs, "NA", "province")
        self.org["A"] = await add_org(self.orgs, "NA.A", "upper_grassroots", self.org["NA"])
        self.org["B"] = await add_org(self.orgs, "NA.B", "upper_grassroots", self.org["NA"])
        for key, org, title, category, seats in (
            ("head", "A", "Trưởng ban Tổ chức", "head", 1),
            ("deputy", "A", "Phó Bí thư Huyện ủy A", "deputy_secretary", 2),
            ("secretary", "A", "Bí thư Huyện ủy A", "secretary", 1),
            ("member", "A", "Huyện ủy viên A", "executive_member", 30),
            ("vice", "A", "Phó Chủ tịch UBND A", "vice_chair", 3),
            ("b_head", "B", "Trưởng ban Dân vận B", "head", 1),
            ("b_chair", "B", "Chủ tịch UBND B", "chair", 1),
        ):
            r = await self.cadres.client.post(
                "/v1/posts",
                headers=self.headers,
                json={"org_id": self.org[org], "title": title, "category": category, "seats": seats},
            )
            assert r.status_code == 201, r.text
            self.post[key] = r.json()["id"]
        return self

    async def cadre(self, name: str, org: str = "A", birth: str = "1980-05-01", gender: str = "male") -> str:
        body = {
            "full_name": name,
            "birth_date": birth,
            "gender": gender,
            "org_id": self.org[org],
            "education": "master",
            "declared_theory_level": "advanced",
        }
        r = await self.cadres.client.post("/v1/cadres", json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def body(self, kind: str, cadre: str, post: str | None, on: str, **extra: Any) -> dict[str, Any]:
        body = {
            "kind": kind,
            "cadre_id": cadre,
            "decision_no": extra.pop("decision_no", f"{uuid.uuid4().hex[:4]}-QĐ/TU"),
            "decided_on": extra.pop("decided_on", on),
            "effective_on": on,
            **extra,
        }
        if post is not None:
            body["post_id"] = self.post[post]
        return body

    async def act(
        self, kind: str, cadre: str, post: str | None, on: str, expected: int = 201, **extra: Any
    ) -> dict[str, Any]:
        headers = extra.pop("headers", self.headers)
        r = await self.cadres.client.post(
            "/v1/personnel-actions", json=self.body(kind, cadre, post, on, **extra), headers=headers
        )
        assert r.status_code == expected, r.text
        return dict(r.json())

    async def check(self, kind: str, cadre: str, post: str | None, on: str, **extra: Any) -> list[str]:
        r = await self.cadres.client.post(
            "/v1/personnel-actions:check",
            json=self.body(kind, cadre, post, on, **extra),
            headers=self.headers,
        )
        assert r.status_code == 200, r.text
        assert r.json()["action"] is None
        return [f["rule"] for f in r.json()["findings"]]

    async def held(self, cadre: str, on: str, headers: dict[str, str] | None = None) -> list[str]:
        """Titles of the posts the cadre holds on the day."""
        r = await self.cadres.client.get(
            f"/v1/cadres/{cadre}/assignments", params={"as_of": on}, headers=headers or self.headers
        )
        assert r.status_code == 200, r.text
        return sorted(a["post"]["title"] for a in r.json()["items"])

    async def assignments(self, cadre: str, on: str) -> list[dict[str, Any]]:
        r = await self.cadres.client.get(
            f"/v1/cadres/{cadre}/assignments", params={"as_of": on}, headers=self.headers
        )
        return list(r.json()["items"])

    async def plan(
        self, cadre: str, post: str, added_on: str = "2021-06-01", removed_on: str | None = None
    ) -> None:
        async with self.cadres.app.state.db.transaction() as s:
            await s.execute(
                insert(PLANS).values(
                    id=uuid.uuid4(), cadre_id=uuid.UUID(cadre), post_id=uuid.UUID(self.post[post]),
                    term="2025-2030", added_on=dt.date.fromisoformat(added_on),
                    removed_on=dt.date.fromisoformat(removed_on) if removed_on else None,
                    findings=[], recorded_at=NOW,
                )
            )  # fmt: skip

    async def discipline(self, cadre: str, measure: str, decided_on: str) -> None:
        async with self.cadres.app.state.db.transaction() as s:
            await s.execute(
                insert(DISCIPLINES).values(
                    id=uuid.uuid4(), cadre_id=uuid.UUID(cadre), measure=measure,
                    decided_on=dt.date.fromisoformat(decided_on), decision_no="1-QĐ/UBKT", recorded_at=NOW,
                )
            )  # fmt: skip

    def title(self, key: str) -> str:
        return {
            "head": "Trưởng ban Tổ chức", "deputy": "Phó Bí thư Huyện ủy A", "secretary": "Bí thư Huyện ủy A",
            "member": "Huyện ủy viên A", "vice": "Phó Chủ tịch UBND A", "b_head": "Trưởng ban Dân vận B",
            "b_chair": "Chủ tịch UBND B",
        }[key]  # fmt: skip


async def counts(cadres: Any) -> tuple[int, int, int]:
    async with cadres.app.state.db.session() as s:
        return (
            (await s.execute(select(func.count()).select_from(PersonnelAction.__table__))).scalar_one(),
            (await s.execute(select(func.count()).select_from(Assignment.__table__))).scalar_one(),
            (await s.execute(select(func.count()).select_from(outbox))).scalar_one(),
        )


async def events_of(cadres: Any, kind: str) -> list[dict[str, Any]]:
    async with cadres.app.state.db.session() as s:
        rows = await s.execute(
            select(outbox.c.payload)
            .where(outbox.c.subject == f"tochuc.cadres.{kind}.v1")
            .order_by(outbox.c.seq)
        )
        return [json.loads(p) for (p,) in rows]


# --------------------------------------------------------------------------------------------- effects


async def test_moves_appointments_and_renewals_change_assignments(pair: Any) -> None:
    w = await World(*pair).build()
    an = await w.cadre("Nguyễn Văn An")
    # Before the rulebook's appointment rules (2022-08-18): nothing to find.
    arranged = await w.act("arrangement", an, "head", "2021-01-04")
    assert arranged["findings"] == [] and arranged["action"]["to_org_id"] == w.org["A"]
    assert await w.held(an, "2021-01-03") == []
    assert await w.held(an, "2021-01-04") == [w.title("head")]

    await w.plan(an, "deputy")
    appointed = (await w.act("appointment", an, "deputy", "2026-01-05", decided_on="2025-12-20"))["action"]
    assert appointed["findings"] == [] and not appointed["findings_acknowledged"]
    (deputy,) = [a for a in await w.assignments(an, "2026-01-05") if a["post"]["title"] == w.title("deputy")]
    assert deputy["term_ends_on"] == "2031-01-04" and deputy["started_by"] == appointed["id"]
    assert deputy["org_id"] == w.org["A"] and deputy["org_name"] == "Đảng bộ NA.A"
    assert deputy["post"]["category"] == "deputy_secretary"
    assert await w.held(an, "2026-01-04") == [w.title("head")]
    assert await w.held(an, "2026-01-05") == sorted([w.title("head"), w.title("deputy")])

    # A transfer out of A ends both of its posts there and starts the new one.
    moved = (await w.act("transfer", an, "b_head", "2026-03-02", from_org_id=w.org["A"]))["action"]
    assert len(moved["assignments_ended"]) == 2 and len(moved["assignments_started"]) == 1
    assert moved["from_org_id"] == w.org["A"] and moved["to_org_id"] == w.org["B"]
    assert await w.held(an, "2026-03-01") == sorted([w.title("head"), w.title("deputy")])
    assert await w.held(an, "2026-03-02") == [w.title("b_head")]

    # A rotation is time-limited: it ends the current post, and its own assignment ends on ends_on.
    await w.plan(an, "vice")
    rotated = await w.act(
        "rotation", an, "vice", "2026-04-01", ends_on="2027-04-01", acknowledged_findings={"reason": "Đề án"}
    )
    assert [f["rule"] for f in rotated["findings"]] == ["appointments.min_years_in_current_post"]
    assert await w.held(an, "2026-04-01") == [w.title("vice")]
    assert await w.held(an, "2027-03-31") == [w.title("vice")]
    assert await w.held(an, "2027-04-01") == []

    # A reappointment ends the held row and starts a new one with a new term: history is kept.
    binh = await w.cadre("Trần Thị Bình", birth="1978-02-10", gender="female")
    await w.plan(binh, "secretary")
    first = (await w.act("appointment", binh, "secretary", "2022-09-01"))["action"]
    (old,) = await w.assignments(binh, "2027-08-31")
    assert old["term_ends_on"] == "2027-08-31" and old["started_by"] == first["id"]
    renewed = await w.act("reappointment", binh, "secretary", "2027-09-01", decided_on="2027-03-01")
    assert renewed["findings"] == []
    (new,) = await w.assignments(binh, "2027-09-01")
    assert new["id"] != old["id"] and new["term_ends_on"] == "2032-08-31" and new["kind"] == "reappointment"
    assert (await w.assignments(binh, "2027-08-31"))[0]["ends_on"] == "2027-09-01"
    await w.act("reappointment", an, "secretary", "2027-09-01", expected=422)  # not held: nothing to renew

    # A designation starts a committee seat, and only a committee seat.
    await w.act("designation", binh, "member", "2027-10-01")
    assert await w.held(binh, "2027-10-01") == sorted([w.title("secretary"), w.title("member")])
    refused = await w.act("designation", binh, "vice", "2027-10-01", expected=422)
    assert refused["type"] == "/problems/not-a-committee-seat"

    # Recorded only: nothing changes.
    before = await w.held(binh, "2027-12-01")
    await w.act("candidate_introduction", binh, "b_chair", "2027-11-01")
    await w.act("appointment_opinion", binh, None, "2027-11-02", note="Cho ý kiến bổ nhiệm Vụ trưởng")
    assert await w.held(binh, "2027-12-01") == before

    # Out of order: nothing effective before a change already recorded.
    late = await w.act("dismissal", binh, "member", "2027-09-15", expected=422)
    assert late["type"] == "/problems/out-of-order"


async def test_ending_kinds_and_retirement(pair: Any) -> None:
    w = await World(*pair).build()
    for kind in ("dismissal", "relief", "resignation", "removal", "retirement"):
        cadre = await w.cadre(f"Cán bộ {kind}")
        await w.act("arrangement", cadre, "member", "2021-01-04")
        await w.act("arrangement", cadre, "vice", "2021-01-04")
        if kind == "dismissal":  # the named post only
            dismissed = (await w.act(kind, cadre, "vice", "2026-02-02"))["action"]
            assert dismissed["from_org_id"] == w.org["A"]  # where the ended post sits
            assert await w.held(cadre, "2026-02-02") == [w.title("member")]
            assert (await w.act(kind, cadre, "head", "2026-02-03", expected=422))[
                "type"
            ] == "/problems/not-holding"
        else:  # every post held
            await w.act(kind, cadre, None, "2026-02-02")
            assert await w.held(cadre, "2026-02-01") == sorted([w.title("member"), w.title("vice")])
            assert await w.held(cadre, "2026-02-02") == []
        status = (await w.cadres.client.get(f"/v1/cadres/{cadre}", headers=w.headers)).json()["status"]
        assert status == ("retired" if kind == "retirement" else "active")
    retired = (await w.act("arrangement", cadre, "head", "2026-03-02", expected=422))["type"]
    assert retired == "/problems/cadre-not-active"
    nobody = await w.cadre("Chưa giữ chức vụ")
    assert (await w.act("relief", nobody, None, "2026-02-02", expected=422))[
        "type"
    ] == "/problems/not-holding"


async def test_bodies_are_validated(pair: Any) -> None:
    w = await World(*pair).build()
    an = await w.cadre("Nguyễn Văn An")
    for kind, post, extra in (
        ("appointment", None, {}),  # a post is needed to start an assignment
        ("rotation", "vice", {}),  # a rotation has an end
        ("rotation", "vice", {"ends_on": "2026-01-01"}),  # after it starts
        ("arrangement", "vice", {"ends_on": "2027-01-01"}),  # only time-limited kinds end by themselves
        ("arrangement", "vice", {"decided_on": "2026-02-01"}),  # signed after it takes effect
        ("arrangement", "vice", {"salary": 1}),  # unknown field
    ):
        r = await w.act(kind, an, post, "2026-01-05", expected=422, **extra)
        assert r["type"] == "/problems/validation", (kind, extra)
    unknown = w.body("arrangement", str(uuid.uuid4()), "vice", "2026-01-05")
    r = await w.cadres.client.post("/v1/personnel-actions", json=unknown, headers=w.headers)
    assert r.status_code == 404
    await w.act("arrangement", an, "vice", "2026-01-05")
    again = await w.act("arrangement", an, "vice", "2026-02-05", expected=422)
    assert again["type"] == "/problems/already-holds-post"


async def test_appointment_terms_follow_the_rulebook_over_time(pair: Any) -> None:
    """Terms before Decree 138/2020 come from Decree 24/2010; a date the rulebook does not cover is a 422."""
    w = await World(*pair).build()
    binh = await w.cadre("Trần Thị Bình", birth="1975-03-01", gender="female")
    old = (await w.act("appointment", binh, "head", "2017-03-01", decided_on="2017-02-20"))["action"]
    (held,) = await w.assignments(binh, "2017-03-01")
    assert held["term_ends_on"] == "2022-02-28" and held["started_by"] == old["id"]
    cuong = await w.cadre("Lê Văn Cường")
    gap = await w.act("appointment", cuong, "vice", "2009-06-01", decided_on="2009-05-20", expected=422)
    assert gap["type"] == "/problems/rule-not-in-force"


# ------------------------------------------------------------------------------------------------ rules


async def refused_for(w: World, rule: str, *args: Any, **extra: Any) -> None:
    """The action is refused naming the rule; acknowledged, it is recorded with its findings and reason."""
    problem = await w.act(*args, expected=422, **extra)
    assert problem["type"] == "/problems/rule-violation"
    assert rule in [f["rule"] for f in problem["findings"]], problem
    assert all(f["source"] for f in problem["findings"])
    recorded = await w.act(*args, acknowledged_findings={"reason": "Ban Thường vụ quyết định"}, **extra)
    action = recorded["action"]
    assert action["findings_acknowledged"] and action["acknowledgement_reason"] == "Ban Thường vụ quyết định"
    assert rule in [f["rule"] for f in action["findings"]]
    assert action["findings"] == recorded["findings"]
    fetched = await w.cadres.client.get(f"/v1/personnel-actions/{action['id']}", headers=w.headers)
    assert fetched.json()["findings"] == action["findings"]


async def test_each_rule_finds_refuses_and_can_be_acknowledged(pair: Any) -> None:
    w = await World(*pair).build()
    rule = "planning.required_for_appointment"
    an = await w.cadre("Nguyễn Văn An")
    assert await w.check("appointment", an, "deputy", "2026-01-05") == [rule]
    await w.plan(an, "deputy", added_on="2026-02-01")  # not yet in the plan on the day
    assert await w.check("appointment", an, "deputy", "2026-01-05") == [rule]
    assert await w.check("appointment", an, "deputy", "2026-02-02") == []
    await refused_for(w, rule, "appointment", an, "deputy", "2026-01-05")

    rule = "appointments.min_years_in_current_post"
    binh = await w.cadre("Lê Văn Bình")
    await w.act("arrangement", binh, "head", "2024-09-01")
    await w.plan(binh, "secretary")
    assert await w.check("appointment", binh, "secretary", "2026-08-31") == [rule]
    assert await w.check("appointment", binh, "secretary", "2026-09-01") == []
    r = await w.cadres.client.post(
        "/v1/posts", headers=w.headers,
        json={"org_id": w.org["A"], "title": "Chánh Văn phòng", "category": "head",
              "requirements": {"min_years_in_prior_post": 3}},
    )  # fmt: skip
    w.post["office"] = r.json()["id"]
    await w.plan(binh, "office")
    assert await w.check("appointment", binh, "office", "2026-09-01") == [rule]
    await refused_for(w, rule, "appointment", binh, "secretary", "2026-06-01")

    rule = "appointments.full_term_before_age_limit"
    old = await w.cadre("Phạm Văn Cao", birth="1966-01-10")  # 61y9m in 2027: retires 2027-10-10
    young = await w.cadre("Hoàng Thị Dung", birth="1975-06-01", gender="female")  # 60 in 2035
    for cadre in (old, young):
        await w.plan(cadre, "vice")
    assert await w.check("appointment", old, "vice", "2026-01-05") == [rule]
    assert await w.check("appointment", young, "vice", "2026-01-05") == []
    await refused_for(w, rule, "appointment", old, "vice", "2026-01-05")

    rule = "appointments.free_seat"
    holder, other = await w.cadre("Đỗ Văn Em"), await w.cadre("Vũ Văn Giang")
    await w.act("arrangement", holder, "b_chair", "2025-01-06")
    assert await w.check("arrangement", other, "b_chair", "2026-01-05") == [rule]
    assert await w.check("arrangement", other, "b_chair", "2024-01-05") == []  # before it was taken
    await refused_for(w, rule, "arrangement", other, "b_chair", "2026-01-05")

    rule = "appointments.disciplinary_bar"
    warned = await w.cadre("Ngô Văn Hải")
    await w.plan(warned, "b_head")
    await w.discipline(warned, "warning", "2024-01-02")  # 30 months: until 2026-07-02
    assert await w.check("appointment", warned, "b_head", "2026-07-01") == [rule]
    assert await w.check("appointment", warned, "b_head", "2026-07-02") == []
    await refused_for(w, rule, "appointment", warned, "b_head", "2026-03-02")

    # The notice rule is a warning: recorded without acknowledgement, its finding kept.
    rule = "appointments.reappointment_notice"
    kim = await w.cadre("Trịnh Thị Kim", birth="1980-03-03", gender="female")
    await w.plan(kim, "head")
    await w.act("appointment", kim, "head", "2022-09-01")  # the term ends 2027-08-31
    deadline = minus_working_days(dt.date(2027, 8, 31), 90)
    assert deadline == dt.date(2027, 4, 27)
    on_time = deadline.isoformat()
    assert await w.check("reappointment", kim, "head", "2027-09-01", decided_on=on_time) == []
    late = await w.act("reappointment", kim, "head", "2027-09-01", decided_on="2027-04-28")
    assert [(f["rule"], f["severity"]) for f in late["findings"]] == [(rule, "warning")]
    assert late["action"]["findings_acknowledged"] is False and late["action"]["findings"] == late["findings"]


async def test_check_is_a_dry_run(pair: Any) -> None:
    w = await World(*pair).build()
    an = await w.cadre("Nguyễn Văn An")
    await w.act("arrangement", an, "head", "2021-01-04")
    before = await counts(w.cadres)
    body = w.body("transfer", an, "b_head", "2026-03-02")
    r = await w.cadres.client.post("/v1/personnel-actions:check", json=body, headers=w.headers)
    assert r.status_code == 200 and r.json() == {"action": None, "findings": []}
    body = w.body("appointment", an, "deputy", "2026-03-02")
    r = await w.cadres.client.post("/v1/personnel-actions:check", json=body, headers=w.headers)
    assert [f["rule"] for f in r.json()["findings"]] == ["planning.required_for_appointment"]
    assert await counts(w.cadres) == before
    assert await w.held(an, "2026-03-02") == [w.title("head")]


# ------------------------------------------------------------------------------------ reads and scope


async def test_list_get_and_appointments_due(pair: Any) -> None:
    w = await World(*pair).build()
    an, binh, cuong = (
        await w.cadre("Nguyễn Văn An"),
        await w.cadre("Trần Văn Bình"),
        await w.cadre("Lý Văn Cường", "B"),
    )
    for cadre, post in ((an, "head"), (binh, "deputy"), (cuong, "b_chair")):
        await w.plan(cadre, post)
    await w.act("appointment", an, "head", "2022-09-05", decided_on="2022-08-30")
    await w.act("appointment", binh, "deputy", "2023-03-01", decided_on="2023-02-20")
    await w.act("appointment", cuong, "b_chair", "2022-10-03", decided_on="2022-09-30")
    await w.act("candidate_introduction", cuong, None, "2024-05-06", to_org_id=w.org["B"])

    r = await w.cadres.client.get(
        "/v1/appointments/due", params={"before": "2028-01-01", "as_of": "2026-06-01"}, headers=w.headers
    )
    due = r.json()["items"]
    assert [(d["post"]["title"], d["term_ends_on"]) for d in due] == [
        (w.title("head"), "2027-09-04"),
        (w.title("b_chair"), "2027-10-02"),
    ]  # not the deputy's: the term of 2023-03-01 ends on 2028-02-29
    for d in due:
        deadline = dt.date.fromisoformat(d["notice_deadline"])
        assert deadline == minus_working_days(dt.date.fromisoformat(d["term_ends_on"]), 90)
        assert deadline.weekday() < 5
    assert due[0]["notice_deadline"] == "2027-05-03"
    r = await w.cadres.client.get(
        "/v1/appointments/due",
        params={"before": "2029-01-01", "within": w.org["A"], "as_of": "2026-06-01", "limit": 1},
        headers=w.headers,
    )
    page = r.json()
    assert [d["cadre_id"] for d in page["items"]] == [an] and page["next_cursor"]
    r = await w.cadres.client.get(
        "/v1/appointments/due",
        params={
            "before": "2029-01-01",
            "within": w.org["A"],
            "as_of": "2026-06-01",
            "cursor": page["next_cursor"],
        },
        headers=w.headers,
    )
    assert [d["cadre_id"] for d in r.json()["items"]] == [binh] and r.json()["next_cursor"] is None

    listed = (await w.cadres.client.get("/v1/personnel-actions", headers=w.headers)).json()["items"]
    assert [a["decided_on"] for a in listed] == ["2024-05-06", "2023-02-20", "2022-09-30", "2022-08-30"]
    q = {"within": w.org["B"]}
    assert (
        len((await w.cadres.client.get("/v1/personnel-actions", params=q, headers=w.headers)).json()["items"])
        == 2
    )
    q = {"kind": "appointment", "from": "2022-09-01", "to": "2023-12-31"}
    items = (await w.cadres.client.get("/v1/personnel-actions", params=q, headers=w.headers)).json()["items"]
    assert [a["cadre_id"] for a in items] == [binh, cuong]
    q = {"cadre_id": cuong, "limit": 1}
    first = (await w.cadres.client.get("/v1/personnel-actions", params=q, headers=w.headers)).json()
    assert first["items"][0]["kind"] == "candidate_introduction"
    q["cursor"] = first["next_cursor"]
    second = (await w.cadres.client.get("/v1/personnel-actions", params=q, headers=w.headers)).json()
    assert second["items"][0]["kind"] == "appointment" and second["next_cursor"] is None
    one = await w.cadres.client.get(f"/v1/personnel-actions/{listed[0]['id']}", headers=w.headers)
    assert one.status_code == 200 and one.json() == listed[0]
    missing = await w.cadres.client.get(f"/v1/personnel-actions/{uuid.uuid4()}", headers=w.headers)
    assert missing.status_code == 404


async def test_scope_on_every_endpoint(pair: Any) -> None:
    w = await World(*pair).build()
    an, binh = await w.cadre("Nguyễn Văn An", "A"), await w.cadre("Trần Văn Bình", "B")
    await w.plan(an, "head")
    await w.plan(binh, "b_head")
    a_action = (await w.act("appointment", an, "head", "2022-09-05"))["action"]
    b_action = (await w.act("appointment", binh, "b_head", "2022-09-05"))["action"]
    in_b = w.cadres.auth(["personnel"], org_scope=w.org["B"])
    viewer_b = w.cadres.auth(["viewer"], org_scope=w.org["B"])

    # Writes: a cadre or a post out of scope does not exist; an organization out of scope is forbidden.
    for headers in (in_b, viewer_b):
        for path in ("/v1/personnel-actions", "/v1/personnel-actions:check"):
            body = w.body("dismissal", an, "head", "2026-01-05")
            assert (await w.cadres.client.post(path, json=body, headers=headers)).status_code == 404
    body = w.body("transfer", binh, "head", "2026-01-05")
    assert (await w.cadres.client.post("/v1/personnel-actions", json=body, headers=in_b)).status_code == 404
    body = w.body("appointment_opinion", binh, None, "2026-01-05", to_org_id=w.org["A"])
    assert (await w.cadres.client.post("/v1/personnel-actions", json=body, headers=in_b)).status_code == 403
    body = w.body("dismissal", binh, "b_head", "2026-01-05")
    assert (
        await w.cadres.client.post("/v1/personnel-actions", json=body, headers=viewer_b)
    ).status_code == 403
    for role in ("organizer", "trainer", "vetting"):
        headers = w.cadres.auth([role])
        assert (
            await w.cadres.client.post("/v1/personnel-actions", json=body, headers=headers)
        ).status_code == 403
    assert (await w.cadres.client.post("/v1/personnel-actions", json=body, headers=in_b)).status_code == 201

    # Reads: filtered or 404 outside the subtree.
    listed = (await w.cadres.client.get("/v1/personnel-actions", headers=viewer_b)).json()["items"]
    assert a_action["id"] not in [a["id"] for a in listed] and b_action["id"] in [a["id"] for a in listed]
    get = w.cadres.client.get
    assert (await get(f"/v1/personnel-actions/{a_action['id']}", headers=viewer_b)).status_code == 404
    assert (await get(f"/v1/personnel-actions/{b_action['id']}", headers=viewer_b)).status_code == 200
    assert (
        await get("/v1/personnel-actions", params={"within": w.org["A"]}, headers=viewer_b)
    ).status_code == 404
    assert (await get(f"/v1/cadres/{an}/assignments", headers=viewer_b)).status_code == 404
    assert (
        await get(f"/v1/cadres/{binh}/assignments", params={"as_of": "2023-01-01"}, headers=viewer_b)
    ).json()["items"][0]["post"]["title"] == w.title("b_head")
    due = await get(
        "/v1/appointments/due", params={"before": "2030-01-01", "as_of": "2023-01-01"}, headers=viewer_b
    )
    assert [d["cadre_id"] for d in due.json()["items"]] == [binh]
    r = await get(
        "/v1/appointments/due", params={"before": "2030-01-01", "within": w.org["A"]}, headers=viewer_b
    )
    assert r.status_code == 404
    assert (await w.cadres.client.get("/v1/personnel-actions")).status_code == 401


# ----------------------------------------------------------------------------------------------- events


async def test_events_carry_the_spec_fields(pair: Any) -> None:
    w = await World(*pair).build()
    an = await w.cadre("Nguyễn Văn An")
    arranged = (await w.act("arrangement", an, "head", "2021-01-04", decision_no="7-QĐ/HU"))["action"]
    rotated = (
        await w.act(
            "rotation",
            an,
            "b_head",
            "2026-03-02",
            ends_on="2027-03-01",
            acknowledged_findings={"reason": "x"},
        )
    )["action"]
    (head,) = arranged["assignments_started"]
    (rotation,) = rotated["assignments_started"]
    assert rotated["assignments_ended"] == [head]
    await w.act("dismissal", an, "b_head", "2026-09-01")  # ends the rotation early

    recorded = await events_of(w.cadres, "personnel_action.recorded")
    assert Counter(e["data"]["kind"] for e in recorded) == {"arrangement": 1, "rotation": 1, "dismissal": 1}
    assert recorded[0]["subject"] == arranged["id"] and recorded[0]["sequence"] == 1
    assert recorded[0]["data"] == {
        "id": arranged["id"], "kind": "arrangement", "cadre_id": an, "post_id": w.post["head"],
        "from_org_id": None, "to_org_id": w.org["A"], "decision_no": "7-QĐ/HU", "decided_on": "2021-01-04",
        "effective_on": "2021-01-04", "findings_acknowledged": False,
    }  # fmt: skip
    assert recorded[1]["data"]["findings_acknowledged"] is True
    assert recorded[1]["data"]["from_org_id"] == w.org["A"] and recorded[1]["data"]["to_org_id"] == w.org["B"]

    started = await events_of(w.cadres, "assignment.started")
    assert [(e["subject"], e["sequence"]) for e in started] == [(head, 1), (rotation, 1)]
    assert started[1]["data"] == {
        "id": rotation, "cadre_id": an, "post_id": w.post["b_head"], "org_id": w.org["B"],
        "starts_on": "2026-03-02", "term_ends_on": None,
    }  # fmt: skip
    ended = await events_of(w.cadres, "assignment.ended")
    assert [(e["subject"], e["sequence"], e["data"]["ends_on"]) for e in ended] == [
        (head, 2, "2026-03-02"),
        (rotation, 2, "2027-03-01"),  # the rotation's planned end, known when it starts
        (rotation, 3, "2026-09-01"),  # then ended early
    ]
    assert ended[0]["data"] == {
        "id": head, "cadre_id": an, "post_id": w.post["head"], "org_id": w.org["A"], "ends_on": "2026-03-02",
        "term_ends_on": None,
    }  # fmt: skip
    for event in recorded + started + ended:
        assert event["source"] == "/tochuc/cadres"


async def test_check_reads_the_cadre_with_its_career_and_the_post_with_its_plan(pair: Any) -> None:
    """The check reads the cadre with its assignments and its number of measures in one statement, and the
    post with whether the cadre is planned for it on the day in another: the findings stay those of the
    separate reads (plan removed before the day, a measure decided after it, a renewed post's tenure)."""
    w = await World(*pair).build()
    statements: list[str] = []

    def log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = w.cadres.app.state.db.write_engine.sync_engine  # a POST: the write engine (SQLite: its own)
    an = await w.cadre("Nguyễn Văn An")
    await w.plan(an, "deputy", added_on="2021-06-01", removed_on="2026-03-01")
    sa_event.listen(engine, "before_cursor_execute", log)
    try:
        assert await w.check("appointment", an, "deputy", "2026-02-27") == []
        # No measure: the disciplines are not read; the plan is part of the post's row.
        assert not [s for s in statements if s.startswith(("SELECT disciplines.", "SELECT plans."))]
        assert 2 <= len([s for s in statements if s.startswith("SELECT")]) <= 3  # + the caller's scope
        assert await w.check("appointment", an, "deputy", "2026-03-02") == [
            "planning.required_for_appointment"
        ]
        await w.discipline(an, "warning", "2026-06-01")  # after the day: no bar on 2026-02-27
        statements.clear()
        assert await w.check("appointment", an, "deputy", "2026-02-27") == []
        assert [s for s in statements if s.startswith("SELECT disciplines.")]  # it has one: read
        assert await w.check("appointment", an, "deputy", "2026-06-02") == [
            "planning.required_for_appointment",
            "appointments.disciplinary_bar",
        ]
    finally:
        sa_event.remove(engine, "before_cursor_execute", log)

    # A career of several rows (one row per assignment in the joined read), a renewal chain included: held
    # since 2020-09-01 without a break, not since the reappointment of 2025-09-01.
    binh = await w.cadre("Lê Văn Bình")
    await w.act("arrangement", binh, "b_head", "2019-01-07")
    await w.act("transfer", binh, "head", "2020-09-01")
    await w.act("reappointment", binh, "head", "2025-09-01")
    await w.plan(binh, "secretary")
    assert await w.check("appointment", binh, "secretary", "2026-09-01") == []
    assert await w.held(binh, "2026-09-01") == [w.title("head")]
