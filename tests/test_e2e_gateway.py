"""End to end through the gateway only: the embedded stack (``tochuc up``: NATS, the installed services, the
gateway, each its own process), a small province built over the public API, then the composed profile,
overview and sector report — and what they answer while the training service's process is stopped.

On ``TOCHUC_TEST_DB=postgresql`` each service gets a scratch PostgreSQL database (``<SERVICE>_DATABASE_URL``),
created here and dropped at the end; otherwise SQLite files in the data dir.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from openpyxl import load_workbook

from shared.supervisor import installed_services
from shared.testing.nats import free_port
from shared.testing.service import _pg_admin, asyncpg_url, pg_admin_url
from shared.testing.service import test_backend as database_backend

REPO = Path(__file__).resolve().parents[1]
TOCHUC = str(Path(sys.executable).parent / "tochuc")
PART_DEADLINE = 0.5  # TOCHUC_GATEWAY_PART_DEADLINE of the stack under test
REPORT_DEADLINE = 1.5  # TOCHUC_GATEWAY_REPORT_DEADLINE
BREAKER_RESET = 1.0  # TOCHUC_GATEWAY_BREAKER_RESET
MARGIN = 0.05  # what the spec allows past the deadline
CLIENT_SLACK = 1.0  # the client's clock: a sanity bound only (see the stopped-training test)
TRAINING = "training" in installed_services()

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    gateway: str
    log: Path
    token: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    def child_pid(self, service: str) -> int:
        """The pid of a service's uvicorn process among the supervisor's children."""
        factory = f"services.{service}.app:create_app"
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if factory in child.cmdline():
                    return child.pid
            except psutil.NoSuchProcess:
                continue
        raise AssertionError(f"no {service} process under the supervisor")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e-gateway")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TOCHUC_") and not k.endswith("_DATABASE_URL")
    }
    ports = {name: free_port() for name in ("GATEWAY", "ORGS", "CADRES", "TRAINING", "NATS")}
    env.update({f"TOCHUC_{n}_PORT": str(p) for n, p in ports.items()})
    env.update(
        TOCHUC_DATA_DIR=str(tmp / "var"),
        TOCHUC_DEMO="0",
        NO_COLOR="1",
        TOCHUC_LOG_LEVEL="WARNING",
        TOCHUC_GATEWAY_PART_DEADLINE=str(PART_DEADLINE),
        TOCHUC_GATEWAY_REPORT_DEADLINE=str(REPORT_DEADLINE),
        TOCHUC_GATEWAY_BREAKER_RESET=str(BREAKER_RESET),
    )
    databases: list[str] = []
    if database_backend() == "postgresql":
        for service in installed_services():
            name = f"tochuc_e2e_{service}_{os.getpid()}"
            databases.append(name)
            env[f"{service.upper()}_DATABASE_URL"] = asyncpg_url(pg_admin_url(), name)
        asyncio.run(
            _pg_admin(
                [
                    s
                    for n in databases
                    for s in (f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)', f'CREATE DATABASE "{n}"')
                ]
            )
        )
    log = tmp / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [TOCHUC, "up"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    stack = Stack(process, env, f"http://127.0.0.1:{ports['GATEWAY']}", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{stack.gateway}/health/ready", timeout=1).json()["status"] == "pass":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            assert time.monotonic() < deadline, "the stack did not become ready in 120 s"
            time.sleep(0.3)
        minted = subprocess.run(
            [TOCHUC, "token", "--sub", "e2e", "--role", "admin"],
            env=env, cwd=REPO, capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        stack.token = minted.stdout.strip()
        yield stack
    finally:
        for service in installed_services():  # never leave a stopped child behind
            try:
                os.kill(stack.child_pid(service), signal.SIGCONT)
            except (AssertionError, ProcessLookupError, psutil.Error):
                pass
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        if databases:
            asyncio.run(_pg_admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in databases]))


def _created(client: httpx.Client, path: str, body: dict[str, Any], *, wait: float = 0.0) -> dict[str, Any]:
    """POST through the gateway; with ``wait``, retried while a service has not yet heard of a record
    another service just made (its projection is fed by events)."""
    deadline = time.monotonic() + wait
    while True:
        r = client.post(path, json=body)
        if (
            r.status_code in (200, 201)
            or time.monotonic() > deadline
            or r.status_code not in (404, 409, 422, 503)
        ):
            assert r.status_code in (200, 201), f"{path}: {r.status_code} {r.text}"
            return dict(r.json())
        time.sleep(0.2)


@pytest.fixture(scope="module")
def province(stack: Stack) -> Stack:
    with httpx.Client(base_url=stack.gateway + "/api/v1", headers=stack.headers, timeout=10) as c:

        def org(key: str, code: str, level: str, parent: str | None, kind: str, name: str) -> None:
            body = {"code": code, "name": name, "level": level, "kind": kind, "established_on": "2020-01-01"}
            if parent:
                body["parent_id"] = stack.ids[parent]
            stack.ids[key] = _created(c, "/organizations", body)["id"]

        org("NA", "E2E", "province", None, "other", "Đảng bộ tỉnh Nghệ An")
        org("A", "E2E.A", "upper_grassroots", "NA", "commune", "Đảng bộ xã Hưng Nguyên")
        org("CELL", "E2E.A.DN", "grassroots_cell", "A", "private_enterprise", "Chi bộ Công ty Minh Phát")
        member = _created(
            c,
            "/members",
            {
                "full_name": "Trần Thị Bình",
                "birth_date": "1988-04-05",
                "gender": "female",
                "org_id": stack.ids["CELL"],
                "admitted_on": "2021-06-01",
                "national_id": "001188012345",
                "ethnicity": "Kinh",
            },
        )
        stack.ids["member"] = member["id"]
        cadre = _created(
            c,
            "/cadres",
            {
                "full_name": "Trần Thị Bình",
                "birth_date": "1988-04-05",
                "gender": "female",
                "org_id": stack.ids["A"],
                "education": "bachelor",
                "declared_theory_level": "intermediate",
                "member_id": member["id"],
            },
            wait=10,
        )
        stack.ids["cadre"] = cadre["id"]
        post = _created(
            c,
            "/posts",
            {"org_id": stack.ids["A"], "title": "Phó Bí thư Đảng ủy xã", "category": "deputy_secretary"},
            wait=10,
        )
        stack.ids["post"] = post["id"]
        _created(
            c,
            "/personnel-actions",
            {
                "kind": "appointment",
                "cadre_id": cadre["id"],
                "post_id": post["id"],
                "decision_no": "45-QĐ/HU",
                "decided_on": "2022-03-01",
                "effective_on": "2022-03-15",
                "acknowledged_findings": {"reason": "the committee's decision"},
            },
        )
        if TRAINING:
            programme = _created(
                c,
                "/programmes",
                {"code": "TC-LLCT", "name": "Trung cấp lý luận chính trị", "kind": "political_theory",
                 "theory_level": "intermediate", "duration_months": 8},
            )  # fmt: skip
            course = _created(
                c,
                "/courses",
                {"programme_id": programme["id"], "code": "TC-2022-01", "name": "Lớp trung cấp K1",
                 "provider": "Trường Chính trị tỉnh", "mode": "in_service", "starts_on": "2022-04-01",
                 "ends_on": "2022-12-01", "capacity": 60},
            )  # fmt: skip
            _created(
                c,
                "/enrollments",
                {"course_id": course["id"], "cadre_id": cadre["id"], "sent_by_org_id": stack.ids["A"],
                 "sent_on": "2022-03-20", "acknowledged_findings": {"reason": "the committee's decision"}},
                wait=15,
            )  # fmt: skip
    return stack


def _get(client: httpx.Client, path: str, **params: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    return response, time.perf_counter() - started


def _gateway_seconds(response: httpx.Response) -> float:
    """The gateway's own time to the answer's head, from its ``Server-Timing: gateway;dur=<ms>``."""
    name, _, duration = response.headers["server-timing"].partition(";dur=")
    assert name == "gateway", response.headers["server-timing"]
    return float(duration) / 1000


def _settled(client: httpx.Client, path: str, **params: str) -> httpx.Response:
    """The first whole answer within 10 s: on a cold stack (first queries compiled, connections opened) on a
    busy machine an optional part may miss its short deadline once; this test is about what is composed, the
    deadlines have their own test below."""
    deadline = time.monotonic() + 10
    while True:
        r, _ = _get(client, path, **params)
        if r.status_code != 200 or r.json()["partial"] is (not TRAINING) or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_profile_overview_and_report_through_the_gateway(province: Stack) -> None:
    s = province
    with httpx.Client(base_url=s.gateway + "/api/v1", headers=s.headers, timeout=10) as c:
        r = _settled(c, f"/cadres/{s.ids['cadre']}/profile")
        assert r.status_code == 200, r.text
        profile = r.json()
        assert profile["partial"] is (not TRAINING), profile["errors"]
        data = profile["data"]
        assert data["cadre"]["full_name"] == "Trần Thị Bình"
        assert [a["post"]["title"] for a in data["assignments"]] == ["Phó Bí thư Đảng ủy xã"]
        assert [o["code"] for o in data["assignments"][0]["org_path"]] == ["E2E", "E2E.A"]
        assert data["member"]["organization"]["code"] == "E2E.A.DN"
        assert set(data["member"]) == {"status", "admitted_on", "recognized_on", "organization"}
        if TRAINING:
            assert len(data["enrollments"]) == 1
            assert data["qualifications"] is not None
        else:
            assert {e["service"] for e in profile["errors"]} == {"training"}

        r, _ = _get(c, f"/organizations/{s.ids['A']}/overview")
        assert r.status_code == 200, r.text
        overview = r.json()["data"]
        assert overview["organization"]["code"] == "E2E.A"
        assert overview["stats"]["members_by_status"]["probationary"] == 1
        assert overview["posts"]["holders"] == 1 and overview["posts"]["vacant"] == 0

        period = {"from": "2021-01-01", "to": "2022-12-31", "within": s.ids["NA"]}
        r = _settled(c, "/reports/sector", **period)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["partial"] is (not TRAINING)
        assert report["data"]["scope"]["name"] == "Đảng bộ tỉnh Nghệ An"
        assert report["data"]["members"]["admitted_by_kind"] == {"private_enterprise": 1}
        assert report["data"]["organizations"]["grassroots_established_by_kind"] == {}  # established 2020
        assert report["data"]["personnel"]["cadres_moved_or_appointed"] == 1
        if TRAINING:
            assert report["data"]["training"]["cadres_sent_by_theory_level"] == {"intermediate": 1}

        r, _ = _get(c, "/reports/sector", **period, format="xlsx")
        assert r.status_code == 200
        assert (
            r.headers["content-disposition"]
            == 'attachment; filename="bao-cao-nganh-2021-01-01_2022-12-31.xlsx"'
        )
        book = load_workbook(io.BytesIO(r.content))
        assert book["Đảng viên"]["B4"].value == "Đảng bộ tỉnh Nghệ An"


@pytest.mark.skipif(not TRAINING, reason="services/training/app.py is not installed in this build yet")
def test_a_stopped_training_service_gives_partial_answers_in_time_and_whole_ones_when_it_is_back(
    province: Stack,
) -> None:
    """Partial 200s within the deadline + 50 ms while training is SIGSTOPped, measured by the gateway.

    The requirement is on the gateway: that it answers within its deadline plus 50 ms. The test's own
    clock around ``client.get`` also counts what is not the gateway's: this process's scheduling (on a
    shared 2-core machine under a parallel test run it waited for a CPU, and a report once measured 1.59 s
    against 1.55 s), httpx building the request and parsing the answer, the loopback. So the 50 ms is
    asserted on the gateway's own ``Server-Timing: gateway;dur=`` (from the request's arrival in the
    gateway's app to the head of its answer, which for these JSON answers is written in one piece), and the
    client's time only against a loose sanity bound (``CLIENT_SLACK``) that catches an answer stuck on the
    way out. The same for "organizations keep answering at full speed".
    """
    s = province
    pid = s.child_pid("training")
    period = {"from": "2021-01-01", "to": "2022-12-31", "within": s.ids["NA"]}
    with httpx.Client(base_url=s.gateway + "/api/v1", headers=s.headers, timeout=10) as c:
        os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(3):  # the first calls wait out the deadline, later ones meet an open circuit
                r, elapsed = _get(c, f"/cadres/{s.ids['cadre']}/profile")
                assert r.status_code == 200 and r.json()["partial"] is True
                assert {e["service"] for e in r.json()["errors"]} == {"training"}
                assert r.json()["data"]["assignments"]
                assert _gateway_seconds(r) <= PART_DEADLINE + MARGIN, (_gateway_seconds(r), elapsed)
                assert elapsed <= PART_DEADLINE + CLIENT_SLACK, elapsed

                r, elapsed = _get(c, "/reports/sector", **period)
                assert r.status_code == 200 and r.json()["partial"] is True
                assert r.json()["data"]["training"] is None and r.json()["data"]["personnel"] is not None
                assert _gateway_seconds(r) <= REPORT_DEADLINE + MARGIN, (_gateway_seconds(r), elapsed)
                assert elapsed <= REPORT_DEADLINE + CLIENT_SLACK, elapsed

                timings = []
                for _ in range(10):
                    r, elapsed = _get(c, f"/organizations/{s.ids['A']}")
                    assert r.status_code == 200
                    assert elapsed < 0.25 + CLIENT_SLACK, elapsed
                    timings.append(_gateway_seconds(r))
                assert max(timings) < 0.25, timings
            ready = httpx.get(s.gateway + "/health/ready", timeout=5)
            assert ready.status_code == 200 and ready.json()["status"] == "warn"
            assert ready.json()["checks"]["training:ready"][0]["status"] == "warn"
        finally:
            os.kill(pid, signal.SIGCONT)

        deadline = time.monotonic() + 15
        while True:  # the circuit lets a probe through after its cool-down, and closes
            r, _ = _get(c, f"/cadres/{s.ids['cadre']}/profile")
            if r.status_code == 200 and r.json()["partial"] is False:
                break
            assert time.monotonic() < deadline, r.json()["errors"]
            time.sleep(0.2)
        assert len(r.json()["data"]["enrollments"]) == 1
        r, _ = _get(c, "/reports/sector", **period)
        assert r.json()["partial"] is False and r.json()["data"]["training"] is not None
