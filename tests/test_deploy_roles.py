"""Process roles (API, relay, consumers: together or apart) and ``tochuc migrate`` on a NATS cluster.

A deployment runs the same image in several roles (``TOCHUC_ROLES`` / ``tochuc serve SERVICE --role``) and
creates the streams and durable consumers with ``TOCHUC_NATS_REPLICAS`` replicas ahead of the services.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager

from services.cadres.app import create_app as create_cadres
from services.orgs.app import create_app as create_orgs
from shared.natsconn import NatsHandle
from shared.settings import CommonSettings, ServiceSettings, parse_roles
from shared.streams import stream_config
from shared.testing.cluster import NatsCluster
from shared.testing.nats import NatsServer, free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "tochuc"
TOCHUC = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "shared.cli"]


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TOCHUC_", "CADRES_")) and not k.endswith("_DATABASE_URL")
    }
    env.update(TOCHUC_DATA_DIR=str(data_dir), TOCHUC_NATS_PORT=str(free_port()), NO_COLOR="1", **extra)
    return env


def run_tochuc(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOCHUC, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


# --- configuration ----------------------------------------------------------------------------------


def test_roles_and_replicas_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_roles("api,relay") == {"api", "relay"}
    assert parse_roles("all") == {"api", "relay", "consumers"}
    assert parse_roles(" consumers ") == {"consumers"}
    with pytest.raises(ValueError, match="unknown role worker"):
        parse_roles("api,worker")
    with pytest.raises(ValueError, match="names no role"):
        parse_roles(",")

    assert CommonSettings().role_set == {"api", "relay", "consumers"}  # the embedded default: all in one
    assert CommonSettings().stream_replicas == 1
    monkeypatch.setenv("TOCHUC_ROLES", "relay")
    monkeypatch.setenv("TOCHUC_NATS_REPLICAS", "3")
    settings = ServiceSettings.load("orgs")
    assert settings.role_set == {"relay"}
    assert settings.stream_replicas == 3
    assert stream_config("orgs", replicas=settings.stream_replicas).num_replicas == 3


# --- one service, several processes -----------------------------------------------------------------


async def _ready(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_api_and_relay_run_as_separate_processes_of_one_service(
    run_service: Any, nats_handle: NatsHandle
) -> None:
    """The API writes the change and its outbox row; only the relay process publishes it."""
    async with run_service("orgs", create_orgs, roles="api") as api:
        assert api.app.state.roles == {"api"}
        assert api.app.state.relay is None and api.app.state.consumers == []
        ready = await _ready(api.client)
        assert "nats:connected" not in ready["checks"]  # an API-only process never talks to NATS

        body = {"code": "NA", "name": "Đảng bộ tỉnh", "level": "province", "kind": "agency"}
        created = await api.client.post(
            "/v1/organizations", json={**body, "established_on": "2020-01-01"}, headers=api.auth()
        )
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        await asyncio.sleep(0.3)
        backlog = (await _ready(api.client))["checks"]["outbox:backlog"][0]["observedValue"]
        assert backlog == 1  # nobody publishes in this process

        relay_app = create_orgs(api.settings.model_copy(update={"roles": "relay"}))
        async with LifespanManager(relay_app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orgs-relay") as relay:
                assert relay_app.state.relay is not None
                # No domain routes on a relay process, only its probes and metrics.
                assert (await relay.get("/v1/organizations", headers=api.auth())).status_code == 404
                assert (await relay.get("/health/live")).status_code == 200
                assert (await relay.get("/metrics")).status_code == 200
                deadline = time.monotonic() + 20
                while True:
                    checks = (await _ready(relay))["checks"]
                    if checks["outbox:backlog"][0]["observedValue"] == 0:
                        break
                    assert time.monotonic() < deadline, checks
                    await asyncio.sleep(0.1)
                assert checks["nats:connected"][0]["status"] == "pass"
        last = await nats_handle.js.get_last_msg("TOCHUC_ORGS", "tochuc.orgs.organization.established.v1")
        assert last.headers is not None
        assert b'"subject":"' + org_id.encode() in last.data.replace(b": ", b":")


async def test_a_consumers_only_process_serves_no_api(run_service: Any) -> None:
    async with run_service("cadres", create_cadres, roles="consumers") as cadres:
        assert cadres.app.state.relay is None
        assert {c.durable for c in cadres.app.state.consumers} >= {"cadres__orgs"}
        assert (await cadres.client.get("/v1/cadres", headers=cadres.auth())).status_code == 404
        assert (await cadres.client.get("/health/live")).status_code == 200


# --- tochuc serve -----------------------------------------------------------------------------------


def test_serve_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data")
    bad_role = run_tochuc("serve", "orgs", "--role", "worker", env=env)
    assert bad_role.returncode == 2 and "unknown role worker" in bad_role.stderr
    gateway_role = run_tochuc("serve", "gateway", "--role", "api", env=env)
    assert gateway_role.returncode == 2 and "the gateway has no roles" in gateway_role.stderr
    unknown = run_tochuc("serve", "payroll", env=env)
    assert unknown.returncode == 2 and "unknown service 'payroll'" in unknown.stderr
    production = run_tochuc("serve", "orgs", env={**env, "TOCHUC_ENV": "production"})
    assert production.returncode == 2
    assert "TOCHUC_NATS_URL is required" in production.stderr
    assert "Traceback" not in bad_role.stderr + production.stderr


@pytest.fixture
def reaper() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_serve_runs_one_role_of_a_service(tmp_path: Path, reaper: list[subprocess.Popen[bytes]]) -> None:
    with NatsServer(store_dir=tmp_path / "nats") as server:
        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=server.url)
        migrated = run_tochuc("migrate", "orgs", env=env)
        assert migrated.returncode == 0, migrated.stderr
        port = free_port()
        process = subprocess.Popen(
            [*TOCHUC, "serve", "orgs", "--role", "api", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        reaper.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=2, trust_env=False) as client:
            while True:
                assert process.poll() is None, "tochuc serve exited"
                try:
                    if client.get("/health/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "not ready in 30 s"
                time.sleep(0.2)
            ready = client.get("/health/ready").json()
            assert "nats:connected" not in ready["checks"]
            assert client.get("/v1/organizations").status_code == 401  # the API is there (and guarded)
        process.terminate()
        assert process.wait(timeout=20) == 0


# --- tochuc migrate on a cluster ----------------------------------------------------------------------


async def _stream_and_consumer(url: str) -> tuple[Any, Any]:
    nc = await nats.connect(url.split(","))
    try:
        js = nc.jetstream()
        return await js.stream_info("TOCHUC_ORGS"), await js.consumer_info("TOCHUC_ORGS", "cadres__orgs")
    finally:
        await nc.close()


async def test_migrate_creates_streams_and_consumers_with_the_configured_replicas(tmp_path: Path) -> None:
    with NatsCluster(root=tmp_path / "cluster") as cluster:
        env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=cluster.url, TOCHUC_NATS_REPLICAS="3")
        first = await asyncio.to_thread(run_tochuc, "migrate", "--nats-timeout", "30", env=env)
        assert first.returncode == 0, first.stderr
        assert "replicas 3" in first.stdout
        assert "consumers: cadres__orgs ready" in first.stdout

        stream, consumer = await _stream_and_consumer(cluster.url)
        assert stream.config.num_replicas == 3
        assert stream.cluster is not None and len(stream.cluster.replicas or []) == 2  # + the leader
        assert consumer.config.num_replicas == 3
        assert consumer.config.durable_name == "cadres__orgs"

        # An operator changed the stream by hand: migrate brings it back, and changes nothing else.
        nc = await nats.connect(cluster.url.split(","))
        try:
            drifted = stream_config("orgs", replicas=3)
            drifted.duplicate_window = 10.0
            await nc.jetstream().update_stream(drifted)
        finally:
            await nc.close()
        again = await asyncio.to_thread(run_tochuc, "migrate", "--nats-timeout", "30", env=env)
        assert again.returncode == 0, again.stderr
        stream, consumer = await _stream_and_consumer(cluster.url)
        assert stream.config.duplicate_window == 120.0
        assert stream.config.num_replicas == 3 and consumer.config.num_replicas == 3


def test_migrate_with_a_nats_timeout_fails_without_nats(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data", TOCHUC_NATS_URL=f"nats://127.0.0.1:{free_port()}")
    result = run_tochuc("migrate", "orgs", "--nats-timeout", "1", env=env)
    assert result.returncode == 1
    assert "is not reachable" in result.stderr and "Traceback" not in result.stderr
