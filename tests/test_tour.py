"""The README's five-minute tour, run as printed against the embedded stack started by ``tochuc up``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.testing.nats import free_port

REPO = Path(__file__).resolve().parents[1]
TOCHUC = str(Path(sys.executable).parent / "tochuc")
TOUR = REPO / "docs" / "tour.sh"


def test_the_readme_prints_the_tour_script_verbatim() -> None:
    body = TOUR.read_text(encoding="utf-8").split("\n", 2)[2].rstrip()  # without the shebang and header
    assert body in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TOCHUC_") and not k.endswith("_DATABASE_URL")
    }
    ports = {name: free_port() for name in ("GATEWAY", "ORGS", "CADRES", "TRAINING", "NATS")}
    env.update({f"TOCHUC_{n}_PORT": str(p) for n, p in ports.items()})
    env.update(TOCHUC_DATA_DIR=str(tmp_path / "var"), TOCHUC_DEMO="0", NO_COLOR="1")
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [TOCHUC, "up"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    gateway = f"http://127.0.0.1:{ports['GATEWAY']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            try:
                if httpx.get(f"{gateway}/health/ready", timeout=1).json()["status"] == "pass":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            assert time.monotonic() < deadline, "the stack did not become ready in 90 s"
            time.sleep(0.3)
        yield env, gateway
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.mark.e2e
@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("curl") is None, reason="the tour uses curl and jq"
)
def test_the_tour_works_as_printed_and_events_tail_shows_each_change(
    stack: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, gateway = stack
    env = {**env, "API": f"{gateway}/api/v1", "TOUR_SUFFIX": "7", "TMPDIR": str(tmp_path)}
    tour = subprocess.run(
        ["bash", str(TOUR)], env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert tour.returncode == 0, tour.stderr
    lines = tour.stdout.strip().splitlines()
    before, after = json.loads(lines[2]), json.loads(lines[3])
    assert before == [
        {"code": "TOUR7.HN", "children": ["TOUR7.HN.HD"]},
        {"code": "TOUR7.VINH", "children": []},
    ]
    assert after == [
        {"code": "TOUR7.HN", "children": []},
        {"code": "TOUR7.VINH", "children": ["TOUR7.HN.HD"]},
    ]
    history = [json.loads(line) for line in lines[4:6]]
    assert [h["change"] for h in history] == ["established", "moved"]
    assert history[1]["effective_on"] == "2025-07-01" and history[1]["decision_no"] == "1234-QĐ/TU"
    assert json.loads(lines[6]) == ["Đảng bộ xã Hưng Đạo"]
    assert json.loads(lines[7]) == [
        {"full_name": "Nguyễn Thị Hoa", "status": "probationary", "national_id": None}
    ]
    assert json.loads(lines[8]) == {"kind": "appointment", "findings": ["planning.required_for_appointment"]}
    assert json.loads(lines[9]) == {"status": "enrolled", "findings": []}
    assert json.loads(lines[10]) == {
        "partial": False,
        "member": "probationary",
        "posts": ["Đảng bộ tỉnh Nghệ An › Đảng bộ thành phố Vinh › Ủy viên Ban Thường vụ Thành ủy"],
        "enrollments": [{"theory_level": "advanced", "status": "enrolled"}],
        "needs": ["advanced"],
    }
    assert json.loads(lines[11]) == {
        "partial": False,
        "members": {"probationary": 1, "official": 0, "exempt": 0},
        "under": {"grassroots_committee": 1, "cell": 1},
        "posts": {"seats": 1, "holders": 1, "vacant": 0},
    }
    assert json.loads(lines[12]) == {"partial": False, "admitted": 1, "appointed": 1, "sent": {"advanced": 1}}
    assert lines[13] == "Microsoft Excel 2007+"
    size = (tmp_path / "bao-cao-nganh-7.xlsx").stat().st_size
    assert lines[14:] == [f"{size} bytes"] and size > 5000
    # Every change of the tour is on the stream, as a CloudEvent per line.
    tail = subprocess.Popen(
        [TOCHUC, "events", "tail", "--from-start"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 20
        assert tail.stdout is not None
        while len(events) < 6 and time.monotonic() < deadline:
            line = tail.stdout.readline()
            # The streams of the other services (cadres, training) interleave: the organizations' in order.
            if line.strip() and json.loads(line)["type"].startswith("vn.tochuc.orgs.organization."):
                events.append(json.loads(line))
    finally:
        tail.send_signal(signal.SIGINT)
        tail.wait(timeout=10)
    types = [e["type"] for e in events]
    assert types == ["vn.tochuc.orgs.organization.established.v1"] * 5 + [
        "vn.tochuc.orgs.organization.moved.v1"
    ]
    assert all(e["specversion"] == "1.0" and e["source"] == "/tochuc/orgs" for e in events)
