"""The ``tochuc`` command as an operator uses it: tokens, migrations, the event tail, the embedded stack."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import psutil
import pytest

import shared.supervisor
from shared.cli import main, subject_intersection
from shared.streams import ensure_stream
from shared.supervisor import module_exists
from shared.testing.nats import NatsServer, free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "tochuc"
TOCHUC = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "shared.cli"]
ORGS_HAS_REVISIONS = any((REPO / "services" / "orgs" / "migrations" / "versions").glob("*.py"))


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The current environment without any tochuc setting, pointed at ``data_dir``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TOCHUC_") and not k.endswith("_DATABASE_URL") and k != "NO_COLOR"
    }
    env.update(TOCHUC_DATA_DIR=str(data_dir), TOCHUC_NATS_PORT=str(closed_port()), NO_COLOR="1", **extra)
    return env


def closed_port() -> int:
    """A port nothing listens on (for "NATS is not reachable")."""
    return free_port()


def run_tochuc(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOCHUC, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


@pytest.fixture
def tochuc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In-process runs of ``main()``: a clean environment on a temporary data dir."""
    for name in list(os.environ):
        if name.startswith("TOCHUC_") or name.endswith("_DATABASE_URL"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TOCHUC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TOCHUC_NATS_PORT", str(closed_port()))
    return data_dir


# --- token ------------------------------------------------------------------------------------------


def test_token_is_signed_with_the_dev_key_and_carries_the_claims(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    org = "0192f3c4-5a6b-7c8d-9e0f-a1b2c3d4e5f6"
    result = run_tochuc(
        "token", "--sub", "lan", "--role", "organizer", "--role", "viewer", "--org-scope", org,
        "--ttl", "600", env=clean_env(data_dir),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert "\n" not in token

    key = (data_dir / "dev-signing.key").read_bytes().strip()
    claims = jwt.decode(token, key, algorithms=["HS256"], audience="tochuc", issuer="tochuc")
    assert claims["sub"] == "lan"
    assert claims["roles"] == ["organizer", "viewer"]
    assert claims["org_scope"] == org
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - time.time()) < 60


def test_token_reuses_the_key_of_the_data_dir(tochuc_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--sub", "me", "--role", "admin"]) == 0
    first = capsys.readouterr().out.strip()
    key = (tochuc_env / "dev-signing.key").read_bytes()
    assert main(["token", "--sub", "me", "--role", "admin"]) == 0
    second = capsys.readouterr().out.strip()
    assert (tochuc_env / "dev-signing.key").read_bytes() == key
    for token in (first, second):
        claims = jwt.decode(token, key.strip(), algorithms=["HS256"], audience="tochuc")
        assert claims["roles"] == ["admin"]
        assert "org_scope" not in claims


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "emperor"], "unknown role"),
        (["--role", "admin", "--org-scope", "not-a-uuid"], "--org-scope"),
    ],
)
def test_token_refuses_bad_input_in_one_line(
    tochuc_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["token", "--sub", "me", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("jwks", [None, "https://sso.example/jwks.json"])
def test_token_is_refused_in_production(
    tochuc_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, jwks: str | None
) -> None:
    monkeypatch.setenv("TOCHUC_ENV", "production")
    monkeypatch.setenv("TOCHUC_NATS_URL", "nats://nats:4222")
    if jwks:
        monkeypatch.setenv("TOCHUC_JWKS_URL", jwks)
    assert main(["token", "--sub", "me", "--role", "admin"]) == 2
    err = capsys.readouterr().err
    assert "development" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tochuc_env / "dev-signing.key").exists()


# --- migrate ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not ORGS_HAS_REVISIONS, reason="services/orgs has no revision yet")
def test_migrate_orgs_creates_its_tables_and_is_idempotent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(data_dir)

    first = run_tochuc("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "orgs:" in first.stdout
    assert "upgraded base ->" in first.stdout
    assert "not reachable" in first.stdout  # no NATS: streams are left to the services
    with sqlite3.connect(data_dir / "orgs.db") as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        (version,) = conn.execute("select version_num from alembic_version").fetchone()
    assert "alembic_version" in tables
    assert len(tables) > 2
    assert version in first.stdout

    again = run_tochuc("migrate", "orgs", env=env)
    assert again.returncode == 0, again.stderr
    assert f"already at {version}" in again.stdout

    down = run_tochuc("migrate", "--downgrade", "base", "orgs", env=env)
    assert down.returncode == 0, down.stderr
    with sqlite3.connect(data_dir / "orgs.db") as conn:
        assert conn.execute("select count(*) from alembic_version").fetchone() == (0,)


@pytest.mark.skipif(not ORGS_HAS_REVISIONS, reason="services/orgs has no revision yet")
async def test_migrate_creates_the_streams_when_nats_is_there(tmp_path: Path) -> None:
    with NatsServer(store_dir=tmp_path / "nats") as server:
        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=server.url)
        result = await asyncio.to_thread(run_tochuc, "migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "streams: TOCHUC_ORGS" in result.stdout and " ready on " in result.stdout

        import nats

        nc = await nats.connect(server.url)
        try:
            info = await nc.jetstream().stream_info("TOCHUC_ORGS")
        finally:
            await nc.close()
        assert info.config.subjects == ["tochuc.orgs.>"]


def test_migrate_runs_a_fake_service(
    tochuc_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Independent of the real services' models: a throwaway ``services.fakesvc`` with two revisions."""
    from fakesvc_support import REVISION_1, REVISION_2, SERVICE, forget_fake_modules, write_fake_service

    import services

    root = tmp_path / "pkgs"
    package = write_fake_service(root, [REVISION_1, REVISION_2])
    (package / "app.py").write_text("def create_app(): ...\n")
    monkeypatch.setattr(services, "__path__", [*services.__path__, str(root)])
    monkeypatch.setattr(shared.supervisor, "SERVICE_NAMES", (SERVICE,))
    monkeypatch.setenv(f"TOCHUC_{SERVICE.upper()}_PORT", "1")  # not in settings.SERVICE_PORTS
    forget_fake_modules()
    try:
        assert main(["migrate"]) == 0
        out = capsys.readouterr().out
        assert f"{SERVICE}: sqlite+aiosqlite:///{tochuc_env.resolve()}/{SERVICE}.db" in out
        assert "upgraded base -> 0001 (widgets)" in out
        assert "upgraded 0001 -> 0002 (widget colour)" in out
        assert "now at 0002" in out

        assert main(["migrate", "--downgrade", "0001", SERVICE]) == 0
        assert "downgraded 0002 -> 0001" in capsys.readouterr().out
    finally:
        forget_fake_modules()


def test_migrate_explains_what_it_cannot_do(tochuc_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "payroll"]) == 2
    assert "unknown service 'payroll'" in capsys.readouterr().err
    assert main(["migrate", "--downgrade", "-1"]) == 2
    assert "--downgrade needs a SERVICE" in capsys.readouterr().err


@pytest.mark.skipif(not ORGS_HAS_REVISIONS, reason="services/orgs has no revision yet")
def test_migrate_failure_is_one_line_and_non_zero(
    tochuc_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORGS_DATABASE_URL", "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    assert main(["migrate", "orgs"]) == 1
    captured = capsys.readouterr()
    assert "migrating orgs failed" in captured.err
    assert "Traceback" not in captured.err
    assert "secret" not in captured.out + captured.err


# --- events tail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("tochuc.>", "tochuc.orgs.>", "tochuc.orgs.>"),
        ("tochuc.orgs.member.>", "tochuc.orgs.>", "tochuc.orgs.member.>"),
        ("tochuc.*.member.admitted.v1", "tochuc.orgs.>", "tochuc.orgs.member.admitted.v1"),
        ("tochuc.cadres.>", "tochuc.orgs.>", None),
        ("tochuc.orgs", "tochuc.orgs.>", None),
        (">", "tochuc.training.>", "tochuc.training.>"),
        ("tochuc.*", "tochuc.orgs.>", None),
    ],
)
def test_subject_intersection(a: str, b: str, expected: str | None) -> None:
    assert subject_intersection(a, b) == expected


def event(type_: str, n: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"id-{n}",
            "source": "/tochuc/orgs",
            "type": f"vn.{type_}",
            "data": {"n": n},
        },
        indent=2,  # a multi-line body must still print as one line
    ).encode()


async def read_line(stream: asyncio.StreamReader, within: float = 20) -> str:
    return (await asyncio.wait_for(stream.readline(), within)).decode().rstrip("\n")


async def test_events_tail_prints_one_cloudevent_per_line(tmp_path: Path) -> None:
    import nats

    with NatsServer(store_dir=tmp_path / "nats") as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await ensure_stream(js, "orgs")
        await ensure_stream(js, "cadres")
        await js.publish(
            "tochuc.orgs.organization.established.v1", event("tochuc.orgs.organization.established.v1", 1)
        )
        await js.publish("tochuc.cadres.cadre.registered.v1", event("tochuc.cadres.cadre.registered.v1", 2))

        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=server.url)
        tail = await asyncio.create_subprocess_exec(
            *TOCHUC, "events", "tail", "tochuc.orgs.>", "--from-start",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert tail.stdout is not None
            first = json.loads(await read_line(tail.stdout))
            assert first["id"] == "id-1"
            assert first["type"] == "vn.tochuc.orgs.organization.established.v1"

            await js.publish(
                "tochuc.cadres.cadre.registered.v1", event("tochuc.cadres.cadre.registered.v1", 3)
            )
            await js.publish("tochuc.orgs.member.admitted.v1", event("tochuc.orgs.member.admitted.v1", 4))
            second = json.loads(await read_line(tail.stdout))
            assert second["id"] == "id-4"  # the cadres events are filtered out

            tail.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(tail.wait(), 10) == 0
        finally:
            if tail.returncode is None:
                tail.kill()
                await tail.wait()
            await nc.close()


async def test_events_tail_new_only_by_default(tmp_path: Path) -> None:
    import nats

    with NatsServer(store_dir=tmp_path / "nats") as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await ensure_stream(js, "training")
        await js.publish(
            "tochuc.training.course.scheduled.v1", event("tochuc.training.course.scheduled.v1", 1)
        )

        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=server.url)
        tail = await asyncio.create_subprocess_exec(
            *TOCHUC, "events", "tail", "--stream", "TOCHUC_TRAINING",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert tail.stdout is not None
            # Publish until the tail has subscribed and prints; the old event never shows.
            line = ""
            for n in range(2, 40):
                await js.publish(
                    "tochuc.training.course.scheduled.v1", event("tochuc.training.course.scheduled.v1", n)
                )
                try:
                    line = await read_line(tail.stdout, within=0.5)
                    break
                except TimeoutError:
                    continue
            assert line, "the tail printed nothing"
            assert json.loads(line)["id"] != "id-1"
            tail.terminate()
            assert await asyncio.wait_for(tail.wait(), 10) == 0
        finally:
            if tail.returncode is None:
                tail.kill()
                await tail.wait()
            await nc.close()


def test_events_tail_without_nats_is_a_clear_error(tmp_path: Path) -> None:
    result = run_tochuc("events", "tail", env=clean_env(tmp_path / "data"), timeout=30)
    assert result.returncode == 1
    assert "cannot reach NATS at nats://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_events_tail_without_streams_is_a_clear_error(tmp_path: Path) -> None:
    with NatsServer(store_dir=tmp_path / "nats") as server:
        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=server.url)
        result = run_tochuc("events", "tail", env=env, timeout=30)
        assert result.returncode == 1
        assert "no event of any TOCHUC_* stream" in result.stderr
        result = run_tochuc("events", "tail", "--stream", "TOCHUC_NOPE", env=env, timeout=30)
        assert result.returncode == 1
        assert "no stream 'TOCHUC_NOPE'" in result.stderr


# --- the embedded stack -----------------------------------------------------------------------------


def stack_env(data_dir: Path, **extra: str) -> tuple[dict[str, str], dict[str, int]]:
    ports = {name: free_port() for name in ("gateway", "orgs", "cadres", "training", "nats")}
    env = clean_env(data_dir, TOCHUC_DEMO="0", **extra)
    for name, port in ports.items():
        env[f"TOCHUC_{name.upper()}_PORT"] = str(port)
    return env, ports


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def output_of(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        return "(still running)"
    assert process.stdout is not None
    return process.stdout.read()


def wait_ready(process: subprocess.Popen[str], urls: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    with httpx.Client(timeout=2, trust_env=False) as client:
        while pending:
            assert process.poll() is None, (
                f"tochuc up exited with {process.returncode}:\n{output_of(process)}"
            )
            assert time.monotonic() < deadline, f"not ready in {timeout} s: {pending}"
            for url in list(pending):
                try:
                    if client.get(url).status_code == 200:
                        pending.remove(url)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)


def read_line_within(process: subprocess.Popen[str], seconds: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, f"no line within {seconds} s"
    return process.stdout.readline().rstrip("\n")


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def survivors(processes: list[psutil.Process], timeout: float = 0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() >= deadline:
            return [f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in alive]
        time.sleep(0.1)


@pytest.fixture
def reaper() -> Iterator[list[subprocess.Popen[str]]]:
    """Kills whatever a failed test left running (by process group)."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            try:
                tree = descendants(process.pid)
            except psutil.NoSuchProcess:
                tree = []
            os.killpg(process.pid, signal.SIGKILL)
            for child in tree:
                try:
                    child.kill()
                except psutil.NoSuchProcess:
                    pass
            process.wait()


@pytest.mark.e2e
@pytest.mark.skipif(
    not (module_exists("services.orgs.app") and module_exists("gateway.app")),
    reason="needs services/orgs/app.py and gateway/app.py",
)
def test_up_runs_the_stack_and_stops_cleanly(tmp_path: Path, reaper: list[subprocess.Popen[str]]) -> None:
    data_dir = tmp_path / "data"
    env, ports = stack_env(data_dir)
    up = start([*TOCHUC, "up"], env)
    reaper.append(up)

    wait_ready(
        up,
        [
            f"http://127.0.0.1:{ports['gateway']}/health/ready",
            f"http://127.0.0.1:{ports['orgs']}/health/ready",
        ],
    )
    children = descendants(up.pid)
    commands = [" ".join(p.cmdline()) for p in children]
    assert any("nats-server" in c and f"-p {ports['nats']}" in c for c in commands), commands
    assert any("services.orgs.app:create_app" in c for c in commands), commands
    assert any("gateway.app:create_app" in c for c in commands), commands
    assert (data_dir / "logs" / "orgs.log").exists()
    assert (data_dir / "orgs.db").exists()

    # The token of `tochuc token` is accepted by the running stack.
    token = run_tochuc("token", "--sub", "me", "--role", "admin", env=env).stdout.strip()
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    assert httpx.get(f"{gateway}/api/v1/organizations", trust_env=False).status_code == 401
    answer = httpx.get(
        f"{gateway}/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}, trust_env=False
    )
    assert answer.status_code == 200, answer.text

    # What the stack publishes, `tochuc events tail` prints: one CloudEvent per line.
    created = httpx.post(
        f"{gateway}/api/v1/organizations",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": "NA", "name": "Đảng bộ tỉnh Nghệ An", "level": "province", "kind": "other",
              "established_on": "1930-04-01"},
        trust_env=False,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    tail = start([*TOCHUC, "events", "tail", "--from-start"], env)
    reaper.append(tail)
    line = read_line_within(tail, 30)
    cloud_event = json.loads(line)
    assert cloud_event["type"] == "vn.tochuc.orgs.organization.established.v1"
    assert cloud_event["data"]["id"] == created.json()["id"]
    tail.send_signal(signal.SIGINT)
    assert tail.wait(timeout=10) == 0

    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=15) == 0
    out = output_of(up)
    assert "tochuc is ready in" in out
    assert f"http://127.0.0.1:{ports['gateway']}" in out
    assert "tochuc token --sub me --role admin" in out
    assert "stopped" in out
    assert survivors(children, timeout=2) == []


# The supervisor on its own, with a tiny stand-in app: crash reporting, Ctrl-C, and no orphans even when
# the supervisor is killed outright.

FAKE_APP = """
import os
import threading
import time
from pathlib import Path

from fastapi import FastAPI


def create_app():
    crash_marker = Path(os.environ["FAKE_CRASH_MARKER"])

    def crash_when_told():
        while not crash_marker.exists():
            time.sleep(0.05)
        os._exit(3)

    threading.Thread(target=crash_when_told, daemon=True).start()
    app = FastAPI()

    @app.get("/health/ready")
    def ready():
        return {"status": "pass"}

    return app
"""

RUN_FAKE_STACK = """
import os, sys
from shared.settings import CommonSettings
from shared.supervisor import AppSpec, Supervisor
app = AppSpec("fake", "fakeapp:create_app", int(os.environ["FAKE_PORT"]))
sys.exit(Supervisor(CommonSettings(), apps=[app]).run())
"""


def start_fake_stack(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, int], Path]:
    (tmp_path / "fakeapp.py").write_text(textwrap.dedent(FAKE_APP))
    marker = tmp_path / "crash-now"
    env, ports = stack_env(
        tmp_path / "data", FAKE_PORT="", FAKE_CRASH_MARKER=str(marker), PYTHONPATH=str(tmp_path)
    )
    env["FAKE_PORT"] = str(ports["orgs"])
    up = start([sys.executable, "-c", RUN_FAKE_STACK], env)
    return up, ports, marker


@pytest.mark.e2e
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_supervisor_stops_on_a_signal_with_exit_0(
    tmp_path: Path, reaper: list[subprocess.Popen[str]], stop: signal.Signals
) -> None:
    up, ports, _marker = start_fake_stack(tmp_path)
    reaper.append(up)
    wait_ready(up, [f"http://127.0.0.1:{ports['orgs']}/health/ready"])
    children = descendants(up.pid)
    assert len(children) >= 2  # nats-server and uvicorn

    up.send_signal(stop)
    assert up.wait(timeout=15) == 0
    assert survivors(children, timeout=2) == []
    out = output_of(up)
    assert f"{stop.name} received: stopping" in out
    assert (tmp_path / "data" / "logs" / "fake.log").read_text()
    assert (tmp_path / "data" / "logs" / "nats.log").read_text()


@pytest.mark.e2e
def test_supervisor_reports_a_dead_child_and_stops_everything(
    tmp_path: Path, reaper: list[subprocess.Popen[str]]
) -> None:
    up, ports, marker = start_fake_stack(tmp_path)
    reaper.append(up)
    wait_ready(up, [f"http://127.0.0.1:{ports['orgs']}/health/ready"])
    children = descendants(up.pid)

    marker.touch()
    assert up.wait(timeout=20) == 1
    out = output_of(up)
    assert "fake exited with code 3" in out
    assert str(tmp_path / "data" / "logs" / "fake.log") in out
    assert survivors(children, timeout=2) == []


@pytest.mark.e2e
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_no_child_outlives_a_killed_supervisor(tmp_path: Path, reaper: list[subprocess.Popen[str]]) -> None:
    up, ports, _marker = start_fake_stack(tmp_path)
    reaper.append(up)
    wait_ready(up, [f"http://127.0.0.1:{ports['orgs']}/health/ready"])
    children = descendants(up.pid)

    up.kill()
    up.wait(timeout=5)
    assert survivors(children, timeout=10) == []


def test_up_refuses_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env, _ports = stack_env(tmp_path / "data")
        env["TOCHUC_NATS_PORT"] = str(port)
        result = run_tochuc("up", env=env, timeout=60)
    assert result.returncode == 1
    assert f"port {port} (nats) is already in use" in result.stderr
    assert "TOCHUC_NATS_PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr
