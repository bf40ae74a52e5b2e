"""Scale-out: replicas and a clustered broker keep every guarantee of the events spec, under failures.

Real processes on this machine: a 3-node NATS JetStream cluster (replicas 3, ``sync_interval: always``),
PostgreSQL (one database per service, created and dropped here), two replicas of orgs (API + relay each)
and of cadres (API + consumers each), a round-robin TCP balancer in front of each pair (the role of a
Kubernetes Service), and the gateway. 2,000 writes go in through the gateway while one NATS node, one orgs
replica and one cadres replica are killed (SIGKILL) and brought back. Then:

- every committed change (outbox row) is in the stream exactly once by id — any re-publication was
  absorbed by ``Nats-Msg-Id``;
- cadres' projection equals orgs' tree, and each event was applied once (inbox), nothing dead-lettered;
- every read through the gateway answered 200 or a clean 502/503/504 — never a hang.

Marked ``scaleout``. It needs PostgreSQL, so it runs under ``make test-pg`` only (skipped on SQLite); skip
it locally with ``-m "not scaleout"`` or ``TOCHUC_SKIP_SCALEOUT=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import load_or_create_dev_key, mint_token
from shared.testing.cluster import NatsCluster
from shared.testing.nats import free_port
from shared.testing.service import _pg_admin, asyncpg_url, pg_admin_url
from shared.testing.service import test_backend as backend_in_use

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        backend_in_use() != "postgresql",
        reason="scale-out needs PostgreSQL: it runs under `make test-pg` (TOCHUC_TEST_DB=postgresql)",
    ),
    pytest.mark.skipif(os.environ.get("TOCHUC_SKIP_SCALEOUT") == "1", reason="TOCHUC_SKIP_SCALEOUT=1"),
]

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "tochuc"
TOCHUC = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "shared.cli"]

WRITES = 2000
WRITERS = 8
CLIENT_TIMEOUT = 20.0  # far above the gateway's upstream deadline (5 s): a hang shows as a timeout
CLEAN_STATUSES = {200, 502, 503, 504}
CONVERGENCE_TIMEOUT = 240.0


# --- a round-robin TCP balancer (what a Kubernetes Service does for the replicas) ---------------------


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"balancer-{self.port}", daemon=True)

    def start(self) -> Balancer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        start, self._next = self._next, self._next + 1
        for i in range(len(self.backends)):
            port = self.backends[(start + i) % len(self.backends)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


# --- processes ----------------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.tail()
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"http://127.0.0.1:{self.port}/health/ready").status_code == 200:
                        return
                time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready in {timeout} s\n{self.tail()}")

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return f"--- {self.name} log ---\n" + self.log_path.read_text(errors="replace")[-3000:]
        return ""


# --- the environment ----------------------------------------------------------------------------------


@dataclass
class Stack:
    cluster: NatsCluster
    orgs_url: str
    cadres_url: str
    gateway: Proc
    orgs: list[Proc]
    cadres: list[Proc]
    balancers: list[Balancer]
    token: str
    all_procs: list[Proc] = field(default_factory=list)


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    names = {service: f"tochuc_scaleout_{service}_{suffix}" for service in ("orgs", "cadres")}
    asyncio.run(_pg_admin([f'CREATE DATABASE "{name}"' for name in names.values()]))
    try:
        yield {service: asyncpg_url(pg_admin_url(), name) for service, name in names.items()}
    finally:
        asyncio.run(_pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names.values()]))


@pytest.fixture
def stack(tmp_path: Path, databases: dict[str, str]) -> Iterator[Stack]:
    cluster = NatsCluster(root=tmp_path / "nats")
    procs: list[Proc] = []
    balancers: list[Balancer] = []
    try:
        cluster.start()
        data_dir = tmp_path / "data"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TOCHUC_", "CADRES_")) and not k.endswith("_DATABASE_URL")
        }
        env.update(
            TOCHUC_DATA_DIR=str(data_dir),
            TOCHUC_NATS_URL=cluster.url,
            TOCHUC_NATS_REPLICAS="3",
            TOCHUC_LOG_LEVEL="WARNING",
            ORGS_DATABASE_URL=databases["orgs"],
            CADRES_DATABASE_URL=databases["cadres"],
            PYTHONUNBUFFERED="1",
        )
        for service in ("orgs", "cadres"):
            migrated = subprocess.run(
                [*TOCHUC, "migrate", service, "--nats-timeout", "60"],
                env=env, cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr

        orgs_ports, cadres_ports = [free_port(), free_port()], [free_port(), free_port()]
        orgs_lb = Balancer(orgs_ports).start()
        cadres_lb = Balancer(cadres_ports).start()
        balancers += [orgs_lb, cadres_lb]
        env["TOCHUC_ORGS_URL"] = orgs_lb.url
        env["TOCHUC_CADRES_URL"] = cadres_lb.url

        def serve(name: str, service: str, port: int, *roles: str) -> Proc:
            command = [*TOCHUC, "serve", service, "--port", str(port)]
            for role in roles:
                command += ["--role", role]
            proc = Proc(name, command, env, port, tmp_path / f"{name}.log")
            procs.append(proc)
            proc.start()
            return proc

        orgs = [serve(f"orgs-{i}", "orgs", p, "api", "relay") for i, p in enumerate(orgs_ports)]
        cadres = [serve(f"cadres-{i}", "cadres", p, "api", "consumers") for i, p in enumerate(cadres_ports)]
        gateway_env = {**env, "TOCHUC_SERVICES": "orgs,cadres"}
        gateway = Proc("gateway", [*TOCHUC, "serve", "gateway", "--port", str(free_port())], gateway_env, 0,
                       tmp_path / "gateway.log")  # fmt: skip
        gateway.port = int(gateway.command[-1])
        procs.append(gateway)
        gateway.start()
        for proc in procs:
            proc.wait_ready()

        key = load_or_create_dev_key(data_dir / "dev-signing.key")
        token = mint_token(key, sub="scaleout", roles=["admin"], ttl=3600, issuer="tochuc", audience="tochuc")
        yield Stack(cluster, orgs_lb.url, cadres_lb.url, gateway, orgs, cadres, balancers, token, procs)
    except BaseException:
        for proc in procs:
            print(proc.tail())
        raise
    finally:
        for proc in reversed(procs):
            proc.stop()
        for balancer in balancers:
            balancer.stop()
        cluster.cleanup()


# --- the load -----------------------------------------------------------------------------------------


def plan_writes(total: int) -> list[tuple[str, str, str, str | None]]:
    """(code, level, kind, parent code): a province, 40 districts, 400 communes, the rest cells."""
    rng = random.Random(7)
    plan: list[tuple[str, str, str, str | None]] = [("SO", "province", "agency", None)]
    districts = [f"SO.D{i:02d}" for i in range(40)]
    plan += [(code, "upper_grassroots", "agency", "SO") for code in districts]
    communes = [f"{rng.choice(districts)}.X{i:03d}" for i in range(400)]
    plan += [(code, "grassroots_committee", "commune", code.rsplit(".", 1)[0]) for code in communes]
    plan += [
        (f"{parent}.C{i:04d}", "cell", "residential", parent)
        for i, parent in enumerate(rng.choice(communes) for _ in range(total - len(plan)))
    ]
    return plan


@dataclass
class Load:
    created: dict[str, str] = field(default_factory=dict)  # code -> id
    write_status: Counter[str] = field(default_factory=Counter)
    read_status: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    failed_writes: list[str] = field(default_factory=list)
    slowest_read: float = 0.0
    done: int = 0


async def write_one(
    client: httpx.AsyncClient, load: Load, code: str, level: str, kind: str, parent: str | None
) -> None:
    body: dict[str, Any] = {
        "code": code,
        "name": f"Tổ chức {code}",
        "level": level,
        "kind": kind,
        "established_on": "2021-01-01",
    }
    if parent is not None:
        body["parent_id"] = load.created[parent]
    headers = {"Idempotency-Key": str(uuid.uuid4())}  # a retry of the same write is the same write
    for attempt in range(60):
        try:
            response = await client.post("/api/v1/organizations", json=body, headers=headers)
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            response, status = None, type(exc).__name__
        load.write_status[status] += 1
        if response is not None and response.status_code == 201:
            load.created[code] = response.json()["id"]
            return
        if response is not None and response.status_code < 500 and response.status_code != 429:
            raise AssertionError(f"write {code}: {response.status_code} {response.text[:300]}")
        load.retries += 1
        await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
    load.failed_writes.append(code)


async def read_one(client: httpx.AsyncClient, load: Load, rng: random.Random) -> None:
    org_id = rng.choice(list(load.created.values()))
    started = time.monotonic()
    try:
        response = await client.get(f"/api/v1/organizations/{org_id}")
        status = str(response.status_code)
    except httpx.HTTPError as exc:  # a timeout here is a hang
        status = type(exc).__name__
    load.slowest_read = max(load.slowest_read, time.monotonic() - started)
    load.read_status[status] += 1


async def drive(stack: Stack, chaos: list[tuple[float, str, Any]]) -> Load:
    load = Load()
    plan = plan_writes(WRITES)
    gateway = f"http://127.0.0.1:{stack.gateway.port}"
    limits = httpx.Limits(max_connections=WRITERS * 2)
    async with httpx.AsyncClient(
        base_url=gateway, timeout=CLIENT_TIMEOUT, limits=limits, trust_env=False,
        headers={"Authorization": f"Bearer {stack.token}"},
    ) as client:  # fmt: skip
        pending_chaos = sorted(chaos, key=lambda c: c[0])

        async def chaos_step() -> None:
            while pending_chaos and load.done >= pending_chaos[0][0] * WRITES:
                _, what, action = pending_chaos.pop(0)
                print(f"  [{load.done:>4} writes] {what}", flush=True)
                await asyncio.to_thread(action)

        # Level by level: a parent exists before its children are written.
        for level in ("province", "upper_grassroots", "grassroots_committee", "cell"):
            queue = [row for row in plan if row[1] == level]
            rng = random.Random(level)

            async def worker(
                queue: list[tuple[str, str, str, str | None]] = queue, rng: random.Random = rng
            ) -> None:
                while queue:
                    code, lvl, kind, parent = queue.pop(0)
                    await write_one(client, load, code, lvl, kind, parent)
                    load.done += 1
                    await chaos_step()
                    if load.created:
                        await read_one(client, load, rng)

            await asyncio.gather(*(worker() for _ in range(WRITERS if level != "province" else 1)))
        await chaos_step()
    return load


# --- the checks ---------------------------------------------------------------------------------------


async def fetch_rows(url: str, query: str) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


async def stream_events(nats_url: str) -> list[tuple[str | None, str]]:
    """(Nats-Msg-Id, CloudEvent id) of every message in TOCHUC_ORGS."""
    import nats

    nc = await nats.connect(nats_url.split(","))
    try:
        js = nc.jetstream(timeout=10)
        info = await js.stream_info("TOCHUC_ORGS")
        total = info.state.messages
        sub = await js.pull_subscribe("tochuc.orgs.>", stream="TOCHUC_ORGS")
        seen: list[tuple[str | None, str]] = []
        while len(seen) < total:
            for msg in await sub.fetch(500, timeout=5):
                seen.append(((msg.headers or {}).get("Nats-Msg-Id"), json.loads(msg.data)["id"]))
                await msg.ack()
        await sub.unsubscribe()
        return seen
    finally:
        await nc.close()


async def wait_converged(orgs_db: str, cadres_db: str, expected: int) -> tuple[int, int]:
    deadline = time.monotonic() + CONVERGENCE_TIMEOUT
    while True:
        (pending,) = await fetch_rows(orgs_db, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        (projected,) = await fetch_rows(cadres_db, "SELECT count(*) FROM org_projection")
        if pending[0] == 0 and projected[0] >= expected:
            return pending[0], projected[0]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no convergence: {pending[0]} unpublished, {projected[0]}/{expected} projected"
            )
        await asyncio.sleep(0.5)


def test_replicas_and_a_nats_cluster_keep_every_guarantee(stack: Stack, databases: dict[str, str]) -> None:
    orgs_a, cadres_a = stack.orgs[0], stack.cadres[0]

    def restart(proc: Proc) -> None:
        proc.start()
        proc.wait_ready()

    chaos = [
        (0.20, "kill NATS node n2 (SIGKILL)", lambda: stack.cluster.kill(1)),
        (0.30, "kill orgs replica 0 (API + relay, SIGKILL)", orgs_a.kill),
        (0.40, "kill cadres replica 0 (API + consumers, SIGKILL)", cadres_a.kill),
        (0.55, "restart NATS node n2", lambda: stack.cluster.start_node(1)),
        (0.65, "restart orgs replica 0", lambda: restart(orgs_a)),
        (0.75, "restart cadres replica 0", lambda: restart(cadres_a)),
    ]
    started = time.monotonic()
    print(flush=True)
    load = asyncio.run(drive(stack, chaos))
    elapsed = time.monotonic() - started
    assert not load.failed_writes, f"writes never accepted: {load.failed_writes[:5]}"
    assert len(load.created) == WRITES

    async def verify() -> dict[str, Any]:
        await wait_converged(databases["orgs"], databases["cadres"], WRITES)
        outbox = await fetch_rows(databases["orgs"], "SELECT id, attempts FROM outbox")
        events = await stream_events(stack.cluster.url)
        orgs_tree = await fetch_rows(
            databases["orgs"],
            "SELECT o.id, o.code, v.name, p.id AS parent_id FROM organizations o "
            "JOIN organization_versions v ON v.node = o.node AND v.valid_to IS NULL "
            "LEFT JOIN organizations p ON p.node = v.parent_node",
        )
        projection = await fetch_rows(
            databases["cadres"], "SELECT id, code, name, parent_id FROM org_projection"
        )
        inbox = await fetch_rows(databases["cadres"], "SELECT event_id FROM inbox WHERE consumer = 'cadres'")
        dead = await fetch_rows(databases["cadres"], "SELECT count(*) FROM dead_letters")
        return {
            "outbox": outbox,
            "events": events,
            "orgs": orgs_tree,
            "projection": projection,
            "inbox": inbox,
            "dead": dead[0][0],
        }

    result = asyncio.run(verify())
    outbox_ids = {str(row["id"]) for row in result["outbox"]}
    stream_ids = [event_id for _, event_id in result["events"]]
    msg_ids = [msg_id for msg_id, _ in result["events"]]
    republished = sum(1 for row in result["outbox"] if row["attempts"] > 1)
    inbox_ids = [str(row["event_id"]) for row in result["inbox"]]
    tree = {(str(r["id"]), r["code"], r["name"], str(r["parent_id"])) for r in result["orgs"]}
    copy = {(str(r["id"]), r["code"], r["name"], str(r["parent_id"])) for r in result["projection"]}
    reads = sum(load.read_status.values())

    print(
        f"\nscale-out: {WRITES} writes in {elapsed:.1f} s through the gateway "
        f"({load.retries} client retries; write answers {dict(load.write_status)})\n"
        f"  outbox rows (committed changes)  {len(outbox_ids)}\n"
        f"  rows published more than once    {republished} (absorbed by Nats-Msg-Id)\n"
        f"  stream messages                  {len(stream_ids)} ({len(set(stream_ids))} distinct ids)\n"
        f"  cadres inbox (events applied)    {len(inbox_ids)} ({len(set(inbox_ids))} distinct), "
        f"dead letters {result['dead']}\n"
        f"  orgs tree / cadres projection    {len(tree)} / {len(copy)} organizations, "
        f"{len(tree ^ copy)} differences\n"
        f"  gateway reads                    {reads}: {dict(load.read_status)}, "
        f"slowest {load.slowest_read:.2f} s",
        flush=True,
    )
    # Every committed change is in the stream exactly once by id (and the header is the id).
    assert len(stream_ids) == len(set(stream_ids)) == len(outbox_ids)
    assert set(stream_ids) == outbox_ids
    assert msg_ids == stream_ids
    # cadres' projection equals orgs' tree; each event applied once, nothing dead-lettered.
    assert len(tree) == WRITES
    assert copy == tree
    assert len(inbox_ids) == len(set(inbox_ids)) == len(outbox_ids)
    assert result["dead"] == 0
    # The gateway answered every read, cleanly.
    assert reads >= WRITES - 1
    assert set(load.read_status) <= {str(s) for s in CLEAN_STATUSES}, load.read_status
    assert load.slowest_read < CLIENT_TIMEOUT
