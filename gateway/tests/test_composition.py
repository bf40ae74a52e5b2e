"""The composed endpoints over the real orgs and cadres apps (real HTTP, real databases) and a training
stand-in: whole answers, partial answers when a part is missing or slow, 502/504 when the main part fails,
the caller's scope and roles applied by each service, and nothing sensitive or from vetting."""

from __future__ import annotations

import io
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from openpyxl import load_workbook
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.stack import FakeTraining, serve_here
from gateway.tests.test_operations import sample
from gateway.tests.upstream_app import free_port
from services.cadres.app import create_app as create_cadres
from services.cadres.cadres.models import SensitiveRead as CadreSensitiveRead
from services.orgs.app import create_app as create_orgs
from services.orgs.members.models import SensitiveRead
from shared.testing.service import ServiceHarness

# Generous: services and gateway share the test's one event loop, and a cold app's first answers are slow on a
# busy machine; tests of timeouts use a much slower fake (or their own deadline).
PART_DEADLINE = 1.0
NATIONAL_ID = "001085012345"
VETTING_SUMMARY = "Lịch sử chính trị: ông nội tham gia chế độ cũ (mật)"


@asynccontextmanager
async def blackhole() -> AsyncIterator[str]:
    """A port that accepts connections and never answers: a hung service."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


class World:
    """A province with a commune committee A (a private-enterprise cell under it) and a committee B; a member
    in the cell who is also a cadre of A, holding a post there, planned for a post of B; payroll, a rating, a
    vetting record."""

    def __init__(
        self, orgs: ServiceHarness, cadres: ServiceHarness, urls: dict[str, str], fake: FakeTraining
    ):
        self.orgs, self.cadres, self.urls, self.fake = orgs, cadres, urls, fake
        self.org: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def auth(self, *roles: str, scope: str | None = None) -> dict[str, str]:
        return self.orgs.auth(list(roles) or ["admin"], org_scope=scope)

    async def post(self, harness: ServiceHarness, path: str, body: dict[str, Any], **auth: Any) -> Any:
        r = await harness.client.post(path, json=body, headers=auth.get("headers") or self.auth())
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def build(self) -> World:
        async def org(key: str, code: str, level: str, parent: str | None, kind: str, name: str) -> None:
            body = {"code": code, "name": name, "level": level, "kind": kind, "established_on": "2020-01-01"}
            if parent:
                body["parent_id"] = self.org[parent]
            self.org[key] = (await self.post(self.orgs, "/v1/organizations", body))["id"]

        await org("NA", "NA", "province", None, "other", "Đảng bộ tỉnh Nghệ An")
        await org("A", "NA.A", "upper_grassroots", "NA", "commune", "Đảng bộ xã Hưng Nguyên")
        await org("CELL", "NA.A.DN", "grassroots_cell", "A", "private_enterprise", "Chi bộ Công ty Minh Phát")
        await org("B", "NA.B", "upper_grassroots", "NA", "ward", "Đảng bộ phường Vinh Tân")
        member = await self.post(
            self.orgs,
            "/v1/members",
            {
                "full_name": "Nguyễn Văn An",
                "birth_date": "1985-02-03",
                "gender": "male",
                "org_id": self.org["CELL"],
                "admitted_on": "2021-03-01",
                "ethnicity": "Thái",
                "religion": "Công giáo",
                "national_id": NATIONAL_ID,
            },
        )
        self.ids["member"] = member["id"]
        await self.post(self.orgs, f"/v1/members/{member['id']}/recognition", {"recognized_on": "2022-03-02"})
        r = await self.orgs.client.put(
            f"/v1/organizations/{self.org['A']}/ratings/2023", json={"rating": "good"}, headers=self.auth()
        )
        assert r.status_code == 200, r.text
        cadre = await self.post(
            self.cadres,
            "/v1/cadres",
            {
                "full_name": "Nguyễn Văn An",
                "birth_date": "1985-02-03",
                "gender": "male",
                "org_id": self.org["A"],
                "education": "master",
                "declared_theory_level": "intermediate",
                "national_id": NATIONAL_ID,
                "member_id": member["id"],
            },
        )
        self.ids["cadre"] = cadre["id"]
        for key, org_key, title, category in (
            ("post", "A", "Phó Chủ tịch UBND xã", "vice_chair"),
            ("target", "B", "Chủ tịch UBND phường", "chair"),
        ):
            body = {"org_id": self.org[org_key], "title": title, "category": category, "seats": 2}
            self.ids[key] = (await self.post(self.cadres, "/v1/posts", body))["id"]
        await self.post(
            self.cadres,
            "/v1/personnel-actions",
            {
                "kind": "arrangement",
                "cadre_id": cadre["id"],
                "post_id": self.ids["post"],
                "decision_no": "12-QĐ/HU",
                "decided_on": "2022-05-10",
                "effective_on": "2022-05-15",
                "acknowledged_findings": {"reason": "test"},
            },
        )
        await self.post(
            self.cadres,
            "/v1/plans",
            {
                "cadre_id": cadre["id"],
                "post_id": self.ids["target"],
                "term": "2025-2030",
                "added_on": "2025-10-10",
                "acknowledged_findings": {"reason": "test"},
            },
        )
        for year, allocated in ((2021, 100), (2024, 90)):
            r = await self.cadres.client.put(
                f"/v1/payroll/{self.org['A']}/{year}/civil_servant",
                json={"allocated": allocated, "actual": allocated},
                headers=self.auth(),
            )
            assert r.status_code == 200, r.text
        await self.post(
            self.cadres,
            f"/v1/cadres/{cadre['id']}/vetting-records",
            {"kind": "political_history", "summary": VETTING_SUMMARY},
            headers=self.auth("vetting"),
        )
        return self

    @asynccontextmanager
    async def gateway(self, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        urls = {**self.urls, **settings.pop("urls", {})}
        with pytest.MonkeyPatch.context() as patch:
            for service, url in urls.items():
                patch.setenv(f"TOCHUC_{service.upper()}_URL", url)
            values: dict[str, Any] = {"gateway_part_deadline": PART_DEADLINE, **settings}
            app = create_app(GatewaySettings(**values))
            async with LifespanManager(app) as manager:
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                    yield client


@pytest.fixture
async def world(run_service: Any, tmp_path: Path) -> AsyncIterator[World]:
    shared_dir = tmp_path / "data"
    fake = FakeTraining()
    async with run_service("orgs", create_orgs, data_dir=shared_dir) as orgs:
        async with run_service("cadres", create_cadres, data_dir=shared_dir) as cadres:
            async with serve_here(orgs.app) as orgs_url, serve_here(cadres.app) as cadres_url:
                directory = cadres.app.state.org_directory
                await directory.client.aclose()
                directory.client = httpx.AsyncClient(base_url=orgs_url, timeout=5)
                async with serve_here(fake.app()) as training_url:
                    urls = {"orgs": orgs_url, "cadres": cadres_url, "training": training_url}
                    yield await World(orgs, cadres, urls, fake).build()


def down() -> str:
    return f"http://127.0.0.1:{free_port()}"


# --- profile ----------------------------------------------------------------------------------------------


async def test_profile_composes_cadres_orgs_and_training(world: World) -> None:
    cadre_id = world.ids["cadre"]
    async with world.gateway() as gateway:
        headers = {
            **world.auth("admin"),
            "X-Request-ID": "req-profile-1",
            "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        }
        r = await gateway.get(
            f"/api/v1/cadres/{cadre_id}/profile", params={"as_of": "2026-01-15"}, headers=headers
        )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-request-id"] == "req-profile-1"
    body = r.json()
    assert body["partial"] is False and body["errors"] == []
    data = body["data"]
    assert data["cadre"]["id"] == cadre_id and data["cadre"]["full_name"] == "Nguyễn Văn An"
    [assignment] = data["assignments"]
    assert assignment["post"]["title"] == "Phó Chủ tịch UBND xã"
    assert [o["name"] for o in assignment["org_path"]] == ["Đảng bộ tỉnh Nghệ An", "Đảng bộ xã Hưng Nguyên"]
    assert [p["post_id"] for p in data["plans"]] == [world.ids["target"]]
    assert data["member"] == {
        "status": "official",
        "admitted_on": "2021-03-01",
        "recognized_on": "2022-03-02",
        "organization": {
            "id": world.org["CELL"],
            "code": "NA.A.DN",
            "name": "Chi bộ Công ty Minh Phát",
            "level": "grassroots_cell",
        },
    }
    assert data["qualifications"]["attained_theory_level"] == "advanced"
    [enrollment] = data["enrollments"]
    assert enrollment["cadre_id"] == cadre_id and enrollment["status"] == "completed"
    assert enrollment["programme_kind"] == "political_theory" and enrollment["findings"] == []
    assert data["training_needs"] == []
    # The caller's token, request id and as_of reached training.
    seen = [s for s in world.fake.seen if s["path"] == f"/v1/cadres/{cadre_id}/training"]
    assert seen[-1]["authorization"] == headers["Authorization"]
    assert seen[-1]["x-request-id"] == "req-profile-1"
    assert "as_of=2026-01-15" in seen[-1]["query"]


async def test_an_admins_profile_makes_no_sensitive_read_in_orgs(world: World) -> None:
    """The member summary comes from ``/v1/members/{id}/summary``, which answers no sensitive field: orgs
    writes no sensitive-read audit row, though an admin could read them (GET /v1/members/{id} does audit)."""

    async def audited() -> int:
        async with world.orgs.app.state.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(SensitiveRead))).scalar_one())

    before = await audited()
    async with world.gateway() as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["partial"] is False and r.json()["data"]["member"]["status"] == "official"
    assert await audited() == before
    direct = await world.orgs.client.get(f"/v1/members/{world.ids['member']}", headers=world.auth("admin"))
    assert direct.json()["national_id"] == NATIONAL_ID
    assert await audited() == before + 1  # the audit is live: the profile just does not trigger it


async def test_a_training_answer_of_an_unknown_shape_is_that_parts_error(world: World) -> None:
    world.fake.enrollment_status = "graduated"
    async with world.gateway() as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is True
    assert body["errors"] == [{"service": "training", "code": "error", "part": "enrollments"}]
    assert body["data"]["enrollments"] is None
    assert body["data"]["qualifications"]["history"][1]["certificate_no"] == "CC-2023-17"


async def test_a_vetting_caller_gets_no_vetting_data_and_no_sensitive_member_fields(world: World) -> None:
    async with world.gateway() as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth("vetting"))
    assert r.status_code == 200, r.text
    text = r.text
    assert VETTING_SUMMARY not in text and "political_history" not in text and "vetting" not in text
    member = r.json()["data"]["member"]
    assert set(member) == {"status", "admitted_on", "recognized_on", "organization"}
    assert "Thái" not in text and "Công giáo" not in text
    assert set(r.json()["data"]) == {
        "cadre", "assignments", "plans", "member", "qualifications", "enrollments", "training_needs",
    }  # fmt: skip


async def test_a_viewer_sees_no_sensitive_field(world: World) -> None:
    async with world.gateway() as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth("viewer"))
    assert r.status_code == 200, r.text
    assert NATIONAL_ID not in r.text
    assert r.json()["data"]["cadre"]["national_id"] is None
    assert r.json()["data"]["member"]["status"] == "official"


async def test_a_cadre_outside_the_callers_scope_is_a_404_problem(world: World) -> None:
    async with world.gateway() as gateway:
        path = f"/api/v1/cadres/{world.ids['cadre']}/profile"
        r = await gateway.get(path, headers=world.auth("viewer", scope=world.org["B"]))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["instance"] == path
        unauthenticated = await gateway.get(path)
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["www-authenticate"].startswith("Bearer")


async def test_profile_is_partial_when_training_is_absent(world: World) -> None:
    async with world.gateway(urls={"training": down()}) as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is True
    assert {(e["service"], e["code"], e["part"]) for e in body["errors"]} == {
        ("training", "unavailable", "qualifications"),
        ("training", "unavailable", "enrollments"),
        ("training", "unavailable", "training_needs"),
    }
    data = body["data"]
    assert data["qualifications"] is None and data["enrollments"] is None and data["training_needs"] is None
    assert data["member"]["status"] == "official" and len(data["assignments"]) == 1


async def test_profile_does_not_wait_for_a_slow_training_past_its_deadline(world: World) -> None:
    world.fake.delay = 3.0
    async with world.gateway() as gateway:
        started = time.perf_counter()
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth())
        elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    # Well before training's 2 s: the answer did not wait for it. (Services and gateway share this test's one
    # event loop, so the exact deadline + 50 ms is checked on real processes in tests/test_e2e_gateway.py.)
    assert elapsed < world.fake.delay - 0.5, elapsed
    assert {e["code"] for e in r.json()["errors"]} == {"timeout"}
    assert r.json()["data"]["cadre"]["id"] == world.ids["cadre"]


async def test_profile_is_502_when_cadres_is_down_and_504_when_it_hangs(world: World) -> None:
    async with world.gateway(urls={"cadres": down()}) as gateway:
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth())
        assert r.status_code == 502
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/upstream-unavailable" and r.json()["service"] == "cadres"
    async with (
        blackhole() as hung,
        world.gateway(urls={"cadres": hung}, gateway_main_deadline=0.4) as gateway,
    ):
        started = time.perf_counter()
        r = await gateway.get(f"/api/v1/cadres/{world.ids['cadre']}/profile", headers=world.auth())
        assert r.status_code == 504
        assert r.json()["type"] == "/problems/upstream-timeout"
        assert time.perf_counter() - started < 1.0  # the hung call is cut at 0.4 s, not waited for


# --- the one-call reads the profile is made of -----------------------------------------------------------


async def _count(harness: ServiceHarness, table: Any) -> int:
    async with harness.app.state.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_cadres_dossier_is_what_the_three_cadres_reads_answer(world: World) -> None:
    """``GET /v1/cadres/{id}/dossier`` answers the cadre, assignments and plans as their own endpoints do,
    for each role and day, and audits a sensitive read exactly as ``GET /v1/cadres/{id}`` does."""
    cadre_id, c = world.ids["cadre"], world.cadres.client
    for roles, day in ((["admin"], "2026-01-15"), (["viewer"], "2026-01-15"), (["admin"], "2022-05-01")):
        headers = world.auth(*roles)
        before = await _count(world.cadres, CadreSensitiveRead)
        dossier = await c.get(f"/v1/cadres/{cadre_id}/dossier?as_of={day}", headers=headers)
        assert dossier.status_code == 200, dossier.text
        audited = await _count(world.cadres, CadreSensitiveRead) - before
        cadre = await c.get(f"/v1/cadres/{cadre_id}", headers=headers)
        assert await _count(world.cadres, CadreSensitiveRead) - before == 2 * audited
        assert audited == (1 if roles == ["admin"] else 0)
        assignments = await c.get(f"/v1/cadres/{cadre_id}/assignments?as_of={day}&limit=500", headers=headers)
        plans = await c.get(f"/v1/plans?cadre_id={cadre_id}&as_of={day}&limit=500", headers=headers)
        assert dossier.json() == {
            "cadre": cadre.json(),
            "as_of": day,
            "assignments": assignments.json()["items"],
            "assignments_truncated": False,
            "plans": plans.json()["items"],
            "plans_truncated": False,
        }
    assert len(dossier.json()["assignments"]) == 0  # before the arrangement of 2022-05-15
    now = (await c.get(f"/v1/cadres/{cadre_id}/dossier", headers=world.auth())).json()
    assert len(now["assignments"]) == 1 and len(now["plans"]) == 1
    outside = await c.get(
        f"/v1/cadres/{cadre_id}/dossier", headers=world.auth("viewer", scope=world.org["B"])
    )
    assert outside.status_code == 404


async def test_organization_paths_answer_several_ancestors_in_one_call(world: World) -> None:
    o = world.orgs.client
    unknown = str(uuid.uuid4())
    ids = [world.org["CELL"], world.org["B"], unknown, world.org["CELL"]]
    r = await o.get("/v1/organizations/paths", params={"id": ids}, headers=world.auth("viewer"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["id"] for i in items] == [world.org["CELL"], world.org["B"]]  # unknown and repeat left out
    for item in items:
        one = await o.get(f"/v1/organizations/{item['id']}/ancestors", headers=world.auth("viewer"))
        assert item["path"] == one.json()["items"]
    assert [p["code"] for p in items[0]["path"]] == ["NA", "NA.A", "NA.A.DN"]
    scoped = await o.get(
        "/v1/organizations/paths", params={"id": ids}, headers=world.auth("viewer", scope=world.org["B"])
    )
    assert [i["id"] for i in scoped.json()["items"]] == [world.org["B"]]
    assert [p["code"] for p in scoped.json()["items"][0]["path"]] == ["NA.B"]  # ancestors outside: left out
    before = await o.get(
        "/v1/organizations/paths", params={"id": ids, "as_of": "2019-12-31"}, headers=world.auth()
    )
    assert before.json()["items"] == []  # none existed yet
    too_many = await o.get("/v1/organizations/paths", params={"id": [unknown] * 51}, headers=world.auth())
    assert too_many.status_code == 422
    assert (await o.get("/v1/organizations/paths", headers=world.auth())).status_code == 422


async def test_a_member_summary_shows_no_personal_field_and_audits_nothing(world: World) -> None:
    o, member = world.orgs.client, world.ids["member"]
    before = await _count(world.orgs, SensitiveRead)
    r = await o.get(f"/v1/members/{member}/summary", params={"as_of": "2022-06-01"}, headers=world.auth())
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": member,
        "status": "official",
        "admitted_on": "2021-03-01",
        "recognized_on": "2022-03-02",
        "state_since": "2022-03-02",
        "org_id": world.org["CELL"],
        "organization": {
            "id": world.org["CELL"], "code": "NA.A.DN", "name": "Chi bộ Công ty Minh Phát",
            "level": "grassroots_cell",
        },
    }  # fmt: skip
    assert await _count(world.orgs, SensitiveRead) == before
    probation = await o.get(f"/v1/members/{member}/summary?as_of=2021-06-01", headers=world.auth())
    assert probation.json()["status"] == "probationary" and probation.json()["recognized_on"] is None
    not_yet = await o.get(f"/v1/members/{member}/summary?as_of=2021-02-28", headers=world.auth())
    assert not_yet.status_code == 404
    outside = await o.get(f"/v1/members/{member}/summary", headers=world.auth("viewer", scope=world.org["B"]))
    assert outside.status_code == 404


# --- overview ---------------------------------------------------------------------------------------------


async def test_overview_composes_orgs_cadres_and_training(world: World) -> None:
    async with world.gateway() as gateway:
        r = await gateway.get(
            f"/api/v1/organizations/{world.org['A']}/overview",
            params={"as_of": "2024-06-01"},
            headers=world.auth("viewer"),
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is False, body["errors"]
    data = body["data"]
    assert data["organization"]["code"] == "NA.A"
    assert [a["code"] for a in data["ancestors"]] == ["NA"]
    assert data["stats"]["members_by_status"]["official"] == 1
    assert data["stats"]["children_by_level"] == {"grassroots_cell": 1}
    assert data["latest_rating"] == {"year": 2023, "rating": "good"}
    assert data["posts"]["posts"] == 1 and data["posts"]["seats"] == 2
    assert data["posts"]["holders"] == 1 and data["posts"]["vacant"] == 1
    civil = data["payroll"]["civil_servant"]
    assert (civil["baseline"], civil["allocated"], civil["year"]) == (100, 90, 2024)
    assert data["training_plans"]["year"] == 2024
    [plan] = data["training_plans"]["items"]
    assert (plan["programme_code"], plan["target"], plan["enrolled"], plan["completed"]) == (
        "CC-LLCT",
        5,
        2,
        1,
    )


async def test_overview_is_partial_without_cadres_and_training_and_502_without_orgs(world: World) -> None:
    async with world.gateway(urls={"cadres": down(), "training": down()}) as gateway:
        r = await gateway.get(f"/api/v1/organizations/{world.org['A']}/overview", headers=world.auth())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["partial"] is True
        assert {(e["service"], e["part"]) for e in body["errors"]} == {
            ("cadres", "posts"),
            ("cadres", "payroll"),
            ("training", "training_plans"),
        }
        assert body["data"]["posts"] is None and body["data"]["stats"] is not None
    async with world.gateway(urls={"orgs": down()}) as gateway:
        r = await gateway.get(f"/api/v1/organizations/{world.org['A']}/overview", headers=world.auth())
        assert r.status_code == 502 and r.json()["service"] == "orgs"


async def test_overview_of_an_organization_outside_the_scope_is_404(world: World) -> None:
    async with world.gateway() as gateway:
        r = await gateway.get(
            f"/api/v1/organizations/{world.org['A']}/overview",
            headers=world.auth("viewer", scope=world.org["B"]),
        )
    assert r.status_code == 404


# --- sector report ----------------------------------------------------------------------------------------


async def test_sector_report_as_json(world: World) -> None:
    params = {"from": "2021-01-01", "to": "2024-12-31", "within": world.org["NA"], "baseline_year": "2021"}
    async with world.gateway() as gateway:
        r = await gateway.get("/api/v1/reports/sector", params=params, headers=world.auth("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partial"] is False, body["errors"]
    data = body["data"]
    assert data["period"] == {"from": "2021-01-01", "to": "2024-12-31"}
    assert data["scope"] == {"id": world.org["NA"], "name": "Đảng bộ tỉnh Nghệ An"}
    assert data["members"]["admitted_by_kind"] == {"private_enterprise": 1}
    assert data["members"]["admitted_total"] == 1 and data["members"]["recognized_total"] == 1
    assert data["personnel"]["cadres_by_kind"] == {"arrangement": 1}
    assert data["payroll"]["civil_servant"]["baseline"] == 100
    assert data["training"]["cadres_sent_by_theory_level"] == {"advanced": 441, "intermediate": 2945}
    assert set(data) == {
        "period", "scope", "documents", "organizations", "members", "coverage",
        "personnel", "payroll", "planning", "training",
    }  # fmt: skip


async def test_sector_report_as_a_workbook(world: World) -> None:
    params = {"from": "2021-01-01", "to": "2022-12-31", "within": world.org["NA"], "format": "xlsx"}
    async with world.gateway() as gateway:
        r = await gateway.get("/api/v1/reports/sector", params=params, headers=world.auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (
        r.headers["content-disposition"] == 'attachment; filename="bao-cao-nganh-2021-01-01_2022-12-31.xlsx"'
    )
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "Văn bản", "Tổ chức đảng", "Đảng viên", "Địa bàn dân cư",
        "Cán bộ", "Biên chế", "Quy hoạch", "Đào tạo",
    ]  # fmt: skip
    for sheet in book.worksheets:
        assert sheet["A3"].value == "Kỳ báo cáo" and sheet["B3"].value == "từ 01/01/2021 đến 31/12/2022"
        assert sheet["A4"].value == "Phạm vi" and sheet["B4"].value == "Đảng bộ tỉnh Nghệ An"
    rows = {row[0]: row[1] for row in book["Đảng viên"].iter_rows(values_only=True) if row and row[0]}
    assert rows["Tổng số"] == 1 and rows["Doanh nghiệp tư nhân"] == 1
    training = [row[:2] for row in book["Đào tạo"].iter_rows(values_only=True)]
    sent = training.index(("Cử cán bộ đi đào tạo lý luận chính trị, theo trình độ", "Số lượng"))
    assert training[sent + 1 : sent + 3] == [("Cao cấp", 441), ("Trung cấp", 2945)]


async def test_sector_report_is_partial_without_cadres_and_says_so_in_the_workbook(world: World) -> None:
    params = {"from": "2021-01-01", "to": "2022-12-31"}
    async with world.gateway(urls={"cadres": down()}) as gateway:
        r = await gateway.get("/api/v1/reports/sector", params=params, headers=world.auth())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["partial"] is True
        assert {e["part"] for e in body["errors"]} == {"personnel", "payroll", "planning"}
        assert body["data"]["personnel"] is None and body["data"]["members"]["admitted_total"] == 1
        assert body["data"]["scope"] == {"id": None, "name": None}
        book = await gateway.get(
            "/api/v1/reports/sector", params={**params, "format": "xlsx"}, headers=world.auth()
        )
        sheet = load_workbook(io.BytesIO(book.content))["Cán bộ"]
        assert sheet["A6"].value == "Không có số liệu" and "cadres" in sheet["B6"].value


async def test_sector_report_fails_without_orgs_and_refuses_a_reversed_period(world: World) -> None:
    async with world.gateway(urls={"orgs": down()}) as gateway:
        r = await gateway.get(
            "/api/v1/reports/sector", params={"from": "2021-01-01", "to": "2022-12-31"}, headers=world.auth()
        )
        assert r.status_code == 502
    async with world.gateway() as gateway:
        r = await gateway.get(
            "/api/v1/reports/sector", params={"from": "2022-01-01", "to": "2021-12-31"}, headers=world.auth()
        )
        assert r.status_code == 422
        r = await gateway.get("/api/v1/reports/sector", params={"from": "2022-01-01"}, headers=world.auth())
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


# --- the breaker in a composed view -----------------------------------------------------------------------


async def test_a_hung_training_opens_its_circuit_and_then_costs_no_waiting(world: World) -> None:
    world.fake.delay = 5.0
    deadline = 1.0
    settings = {"gateway_breaker_failures": 2, "gateway_breaker_reset": 60, "gateway_part_deadline": deadline}
    async with world.gateway(**settings) as gateway:
        path = f"/api/v1/cadres/{world.ids['cadre']}/profile"
        for _ in range(2):  # one training call per profile; two time out: open
            timed_out = await gateway.get(path, headers=world.auth())
            assert {e["code"] for e in timed_out.json()["errors"]} == {"timeout"}
        started = time.perf_counter()
        second = await gateway.get(path, headers=world.auth())
        assert time.perf_counter() - started < deadline / 2  # training was not even called
        assert second.status_code == 200
        assert {e["code"] for e in second.json()["errors"]} == {"unavailable"}
        ready = (await gateway.get("/health/ready")).json()
        assert ready["status"] == "warn"
        assert ready["checks"]["training:ready"][0]["circuit"] == "open"
        assert ready["checks"]["orgs:ready"][0]["status"] == "pass"
        metrics = (await gateway.get("/metrics")).text
    assert sample(metrics, "tochuc_gateway_circuit_state", service="training") == 2
    assert sample(metrics, "tochuc_gateway_circuit_rejected_total", service="training") >= 1  # type: ignore[operator]
    parts = "tochuc_gateway_composed_parts_total"
    assert sample(metrics, parts, view="profile", service="training", outcome="timeout") == 2
