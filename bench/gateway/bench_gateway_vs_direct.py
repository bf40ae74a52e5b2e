"""The gateway against the direct service for ``GET /organizations/{id}``: latency, throughput, CPU per call.

The real stack, each part its own process, as ``shared.supervisor`` starts it:

- a temporary data dir under ``bench/out/`` (the development signing key, logs, the NATS store, the SQLite
  file), removed at the end unless ``--keep`` (kept, with its logs, when something fails);
- the orgs database migrated with ``shared.migrations.upgrade("orgs", url)``: SQLite in the data dir, or
  with ``--db postgresql`` a scratch database ``tochuc_bench_gw_<pid>`` created on ``--pg-url`` and dropped
  at the end;
- ``nats-server`` (``shared.testing.nats.NatsServer``, JetStream, store in the data dir);
- orgs: ``python -m uvicorn --factory services.orgs.app:create_app --host 127.0.0.1 --port P
  --no-access-log``;
- the gateway: ``python -m gateway`` (``TOCHUC_SERVICES=orgs``, ``TOCHUC_ORGS_URL`` = the orgs process);
- both with ``TOCHUC_LOG_LEVEL=WARNING``: no per-request log line in either process, so logging is not part
  of the measurement (the gateway logs one line per request at INFO in production: that cost is NOT here).
  Inherited ``TOCHUC_*`` / ``*_DATABASE_URL`` variables are dropped so the shell cannot change the set-up.

A province and ``--committees`` upper-grassroots committees are created through the gateway with an admin
token minted from the data dir's development key (created before the processes start, so both share it).
Then ``loadgen.py`` (a separate process, closed loop, HTTP/1.1 keep-alive) sends the real ``Authorization``
header to ``GET /v1/organizations/{id}`` on orgs (direct) and ``GET /api/v1/organizations/{id}`` on the
gateway, for one committee:

- light load: 1 connection, ``--light-requests`` answers → p50, p99; added latency = gateway p50 − direct p50;
- saturation: each of ``--concurrency`` (default 16 and 32 connections) for ``--saturation-seconds`` →
  throughput, p50, p99, throughput ratio gateway / direct;
- CPU per request of the orgs process and of the gateway process (psutil ``cpu_times`` user+system deltas
  around each load-generator run, divided by every answer it got, warm-up included), of the load generator
  (``RUSAGE_CHILDREN``), and the run-queue wait per request of orgs and the gateway (Linux schedstat: time
  runnable but waiting for a CPU; well above 0 means the machine was contended).

Each run measures every phase for both targets back to back (the order alternates between runs); the tables
show medians over ``--runs``; the added latency and the ratio are medians of the per-run paired figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench_clients import Figures, cpu_seconds, free_port  # noqa: E402

from shared.auth import load_or_create_dev_key, mint_token  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from shared.settings import sqlite_url  # noqa: E402
from shared.supervisor import _pdeathsig_preexec  # noqa: E402  (children die with this script, even on SIGKILL)
from shared.testing.nats import NatsServer  # noqa: E402

PYTHON = sys.executable
DEFAULT_PG_URL = os.environ.get("TOCHUC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_ADDED_P50_MS = 1.5
TARGET_RATIO = 0.8
READY_TIMEOUT = 60.0
TARGETS = ("direct", "gateway")


def say(line: str = "") -> None:
    print(line, flush=True)


def note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ set-up


async def pg_admin(admin_url: str, statements: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def asyncpg_url(admin_url: str, database: str) -> str:
    base = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{base}/{database}"


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a child: ours without TOCHUC_* / *_DATABASE_URL, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TOCHUC_") and not k.endswith("_DATABASE_URL")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def http(
    method: str, url: str, token: str | None = None, body: Any = None, timeout: float = 10.0
) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: exited with {proc.returncode}; log tail:\n{log.read_text()[-3000:]}")
        try:
            status, body = http("GET", url, timeout=2)
            if status == 200:
                return
            last = f"{status} {body[:300]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {timeout:.0f} s (last answer: {last}); log: {log}")


@contextmanager
def child(
    name: str, args: list[str], env: dict[str, str], ready_url: str, logs: Path
) -> Iterator[psutil.Process]:
    """A child process with its output in ``logs/<name>.log``; terminated (then killed) on exit, always."""
    log_path = logs / f"{name}.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches only this script, which stops the children in order
            preexec_fn=_pdeathsig_preexec(),
        )
    try:
        wait_ready(ready_url, proc, log_path)
        yield psutil.Process(proc.pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def create_organizations(base: str, token: str, committees: int) -> list[str]:
    """A province and ``committees`` upper-grassroots committees, through the gateway; their ids."""
    suffix = os.getpid()
    status, body = http(
        "POST",
        f"{base}/api/v1/organizations",
        token,
        {
            "code": f"BENCH{suffix}",
            "name": "Đảng bộ tỉnh Bench",
            "level": "province",
            "kind": "other",
            "established_on": "2000-01-01",
            "decision_no": "1-QĐ/TW",
            "decided_on": "1999-12-20",
        },
    )
    if status != 201:
        raise RuntimeError(f"creating the province: {status} {body[:500]!r}")
    province = json.loads(body)["id"]
    ids = []
    kinds = ("commune", "ward", "agency", "public_service_unit", "state_enterprise")
    for i in range(committees):
        status, body = http(
            "POST",
            f"{base}/api/v1/organizations",
            token,
            {
                "code": f"BENCH{suffix}.U{i + 1:02d}",
                "name": f"Đảng bộ huyện Thử Nghiệm số {i + 1}",
                "level": "upper_grassroots",
                "kind": kinds[i % len(kinds)],
                "parent_id": province,
                "tags": ["difficult_area"] if i % 3 == 0 else [],
                "established_on": "2005-07-01",
                "decision_no": f"{100 + i}-QĐ/TU",
                "decided_on": "2005-06-20",
            },
        )
        if status != 201:
            raise RuntimeError(f"creating committee {i + 1}: {status} {body[:500]!r}")
        ids.append(json.loads(body)["id"])
    return ids


# ----------------------------------------------------------------------------------------------- measure


def loadgen(
    port: int, path: str, authorization: str, concurrency: int, *, warmup: float, requests: int = 0,
    duration: float = 0.0,
) -> tuple[dict[str, Any], float]:  # fmt: skip
    """One ``loadgen.py`` run; its JSON and the CPU seconds the load generator itself used."""
    args = [
        PYTHON, str(HERE / "loadgen.py"), "--port", str(port), "--path", path,
        "--authorization", authorization, "--concurrency", str(concurrency), "--warmup", str(warmup),
    ]  # fmt: skip
    args += ["--requests", str(requests)] if requests else ["--duration", str(duration)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(args, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"loadgen failed ({result.returncode}): {result.stderr[-2000:]}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(result.stdout), used


def measure(
    label: str,
    port: int,
    path: str,
    authorization: str,
    procs: dict[str, psutil.Process],
    concurrency: int,
    *,
    warmup: float,
    requests: int = 0,
    duration: float = 0.0,
) -> dict[str, float]:
    cpu = {name: cpu_seconds(p) for name, p in procs.items()}
    wait = {name: runqueue_waits(p) for name, p in procs.items()}
    result, loadgen_cpu = loadgen(
        port, path, authorization, concurrency, warmup=warmup, requests=requests, duration=duration
    )
    cpu = {name: cpu_seconds(p) - cpu[name] for name, p in procs.items()}
    waited = {name: wait_delta(wait[name], runqueue_waits(p)) for name, p in procs.items()}
    if result["errors"] or result.get("connections_lost"):
        raise RuntimeError(
            f"{label}: {result['errors']} error answers, {result.get('connections_lost', 0)} lost"
        )
    total = result["requests_total"]
    out = {
        "rps": result["rps"],
        "p50": result["p50_ms"],
        "p99": result["p99_ms"],
        "n": result["requests"],
        "loadgen_cpu": loadgen_cpu / total * 1000,
    }
    for name in procs:
        out[f"cpu_{name}"] = cpu[name] / total * 1000
        out[f"wait_{name}"] = waited[name] / total * 1000
    return out


def runqueue_waits(proc: psutil.Process) -> dict[int, int]:
    """Per thread id: ns runnable but waiting for a CPU (Linux schedstat).

    Per thread, not summed as ``bench_clients.runqueue_wait_seconds`` does: orgs starts and ends threads
    (aiosqlite runs one per connection) and the wait of a thread that exited vanishes from a sum, which then
    goes down (a first run here gave −3 ms per request). A delta counts threads alive at the end, from 0 for
    threads born meanwhile; a thread that ended during the load is missed, so the figure is a lower bound.
    """
    waits = {}
    for task in Path(f"/proc/{proc.pid}/task").iterdir():
        try:
            waits[int(task.name)] = int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return waits


def wait_delta(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def idle_cpu(procs: dict[str, psutil.Process], seconds: float = 2.0) -> dict[str, float]:
    """CPU ms per second each process spends with no load (background tasks: outbox relay, housekeeping…)."""
    before = {name: cpu_seconds(p) for name, p in procs.items()}
    time.sleep(seconds)
    return {name: (cpu_seconds(p) - before[name]) / seconds * 1000 for name, p in procs.items()}


# ----------------------------------------------------------------------------------------------- report


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


CONTENDED = 0.10  # run-queue wait above this fraction of a process's CPU: the verdict is not to be trusted


def contention(figures: dict[str, Figures], phase: str) -> str:
    """A warning when orgs or the gateway waited for a CPU noticeably during ``phase`` (either target)."""
    worst = []
    for target, f in figures.items():
        for name in ("orgs", "gateway") if target == "gateway" else ("orgs",):
            cpu, wait = f.median(f"{phase}_cpu_{name}"), f.median(f"{phase}_wait_{name}")
            if cpu > 0 and wait > CONTENDED * cpu:
                worst.append(f"{name} ({target}) waited {wait:.2f} ms/request for {cpu:.2f} ms of CPU")
    if not worst:
        return ""
    return "\n  NOT A VALID VERDICT, the machine was contended: " + "; ".join(worst)


def report(args: argparse.Namespace, figures: dict[str, Figures], phases: list[tuple[str, int]]) -> None:
    direct, gateway = figures["direct"], figures["gateway"]
    say()
    say(
        f"medians of {args.runs} run(s); times in ms; cpu / wait = CPU ms / run-queue wait ms per request of "
        "each process (wait well above 0: the machine was contended, latency and throughput are inflated)"
    )
    light = phases[0][0]
    say()
    say(f"light load: 1 connection, {args.light_requests} requests per target")
    header = (
        f"{'target':>8} | {'p50':>6} {'p99':>6} | {'cpu orgs':>8} {'cpu gw':>7} {'cpu sum':>7} | "
        f"{'wait orgs':>9} {'wait gw':>7} | {'loadgen cpu':>11}"
    )
    say(header)
    say("-" * len(header))
    for target in TARGETS:
        f = figures[target]
        is_gw = target == "gateway"
        cpu_gw = f.median(f"{light}_cpu_gateway") if is_gw else float("nan")
        cpu_sum = f.median(f"{light}_cpu_orgs") + (cpu_gw if is_gw else 0.0)
        say(
            f"{target:>8} | {f.median(f'{light}_p50'):6.2f} {f.median(f'{light}_p99'):6.2f} | "
            f"{f.median(f'{light}_cpu_orgs'):8.3f} {_opt(cpu_gw, is_gw, 7)} {cpu_sum:7.3f} | "
            f"{f.median(f'{light}_wait_orgs'):9.3f} {_opt(f.median(f'{light}_wait_gateway'), is_gw, 7)} | "
            f"{f.median(f'{light}_loadgen_cpu'):11.3f}"
        )
    added = med(gateway.samples.get("added_p50", []))
    added_p99 = gateway.median(f"{light}_p99") - direct.median(f"{light}_p99")
    say(
        f"added latency (gateway p50 − direct p50, median of per-run differences): {added:.2f} ms   "
        f"target ≤ {TARGET_ADDED_P50_MS} ms: {verdict(added <= TARGET_ADDED_P50_MS)}   "
        f"(p99 difference of medians: {added_p99:.2f} ms){contention(figures, light)}"
    )
    for phase, concurrency in phases[1:]:
        say()
        say(f"saturation: {concurrency} connections, {args.saturation_seconds:g} s per target")
        header = (
            f"{'target':>8} | {'req/s':>7} {'ratio':>5} {'p50':>7} {'p99':>7} | {'cpu orgs':>8} "
            f"{'cpu gw':>7} {'cpu sum':>7} | {'wait orgs':>9} {'wait gw':>7} | {'loadgen cpu':>11}"
        )
        say(header)
        say("-" * len(header))
        for target in TARGETS:
            f = figures[target]
            is_gw = target == "gateway"
            ratio = med(gateway.samples.get(f"{phase}_ratio", [])) if is_gw else 1.0
            cpu_gw = f.median(f"{phase}_cpu_gateway") if is_gw else float("nan")
            cpu_sum = f.median(f"{phase}_cpu_orgs") + (cpu_gw if is_gw else 0.0)
            say(
                f"{target:>8} | {f.median(f'{phase}_rps'):7.0f} {ratio:5.2f} "
                f"{f.median(f'{phase}_p50'):7.2f} {f.median(f'{phase}_p99'):7.2f} | "
                f"{f.median(f'{phase}_cpu_orgs'):8.3f} {_opt(cpu_gw, is_gw, 7)} {cpu_sum:7.3f} | "
                f"{f.median(f'{phase}_wait_orgs'):9.3f} {_opt(f.median(f'{phase}_wait_gateway'), is_gw, 7)} "
                f"| {f.median(f'{phase}_loadgen_cpu'):11.3f}"
            )
        ratio = med(gateway.samples.get(f"{phase}_ratio", []))
        say(
            f"throughput gateway / direct (median of per-run ratios): {ratio:.2f}   "
            f"target ≥ {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)}{contention(figures, phase)}"
        )


def _opt(value: float, present: bool, width: int) -> str:
    return f"{value:{width}.3f}" if present else f"{'-':>{width}}"


# ------------------------------------------------------------------------------------------------- main


def run_benchmark(args: argparse.Namespace, stack: ExitStack, data_dir: Path) -> None:
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    # The database.
    if args.db == "sqlite":
        database_url = sqlite_url(data_dir / "orgs.db")
    else:
        db_name = f"tochuc_bench_gw_{os.getpid()}"
        drop = f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'
        asyncio.run(pg_admin(args.pg_url, [drop, f'CREATE DATABASE "{db_name}"']))

        def drop_database() -> None:  # runs last: after every process using it has stopped
            if args.keep:
                say(f"database kept: {db_name} (--keep)")
                return
            asyncio.run(pg_admin(args.pg_url, [drop]))
            note(f"dropped the scratch database {db_name}")

        stack.callback(drop_database)
        database_url = asyncpg_url(args.pg_url, db_name)
    steps = upgrade("orgs", database_url)
    note(f"migrated the orgs database ({args.db}): {len(steps)} revision(s)")

    # The signing key first, so that orgs and the gateway read the same one (no creation race).
    key = load_or_create_dev_key(data_dir / "dev-signing.key")
    token = mint_token(key, sub="bench-gateway", roles=["admin"], ttl=24 * 3600)
    authorization = f"Bearer {token}"

    nats = NatsServer(store_dir=data_dir / "nats").start()
    stack.callback(nats.stop)

    orgs_port, gateway_port = free_port(), free_port()
    common = {"TOCHUC_DATA_DIR": str(data_dir), "TOCHUC_LOG_LEVEL": "WARNING"}
    orgs_env = clean_env(
        {
            **common,
            "ORGS_DATABASE_URL": database_url,
            "TOCHUC_NATS_URL": nats.url,
            "TOCHUC_ORGS_PORT": str(orgs_port),
        }
    )
    orgs_cmd = [
        PYTHON, "-m", "uvicorn", "--factory", "services.orgs.app:create_app",
        "--host", "127.0.0.1", "--port", str(orgs_port), "--no-access-log",
    ]  # fmt: skip
    orgs = stack.enter_context(
        child("orgs", orgs_cmd, orgs_env, f"http://127.0.0.1:{orgs_port}/health/ready", logs)
    )
    gateway_extra = {
        **common,
        "TOCHUC_GATEWAY_PORT": str(gateway_port),
        "TOCHUC_ORGS_URL": f"http://127.0.0.1:{orgs_port}",
        "TOCHUC_SERVICES": "orgs",
        "TOCHUC_NATS_URL": nats.url,
    }
    if args.gateway_http_client:
        gateway_extra["TOCHUC_GATEWAY_HTTP_CLIENT"] = args.gateway_http_client
    gateway = stack.enter_context(
        child(
            "gateway",
            [PYTHON, "-m", "gateway"],
            clean_env(gateway_extra),
            f"http://127.0.0.1:{gateway_port}/health/ready",
            logs,
        )
    )
    note(f"nats {nats.url}, orgs :{orgs_port} (pid {orgs.pid}), gateway :{gateway_port} (pid {gateway.pid})")

    ids = create_organizations(f"http://127.0.0.1:{gateway_port}", token, args.committees)
    org_id = ids[len(ids) // 2]
    direct_path = f"/v1/organizations/{org_id}"
    gateway_path = f"/api/v1/organizations/{org_id}"
    s1, b1 = http("GET", f"http://127.0.0.1:{orgs_port}{direct_path}", token)
    s2, b2 = http("GET", f"http://127.0.0.1:{gateway_port}{gateway_path}", token)
    if (s1, s2) != (200, 200) or b1 != b2:
        raise RuntimeError(f"direct and gateway answers differ: {s1} {b1[:300]!r} / {s2} {b2[:300]!r}")
    s3, _ = http("GET", f"http://127.0.0.1:{gateway_port}{gateway_path}")
    if s3 != 401:
        raise RuntimeError(
            f"without a token the gateway path answered {s3}, not 401: the token is not checked"
        )
    say(
        f"created 1 province + {len(ids)} committees through the gateway; measuring committee {org_id} "
        f"({len(b1)} B JSON, identical direct and through the gateway; 401 without the token)"
    )

    procs_direct = {"orgs": orgs, "gateway": gateway}
    procs = {"direct": procs_direct, "gateway": procs_direct}
    ports = {"direct": orgs_port, "gateway": gateway_port}
    paths = {"direct": direct_path, "gateway": gateway_path}
    for target in TARGETS:  # warm up: connections, caches, lazy imports
        measure(
            target, ports[target], paths[target], authorization, procs[target], 8, warmup=0.2, duration=1.0
        )
    time.sleep(1.0)
    idle = idle_cpu(procs_direct)
    say(
        "idle CPU with no load (background tasks, included in the per-request CPU below): "
        + ", ".join(f"{name} {ms:.1f} ms/s" for name, ms in idle.items())
    )

    phases: list[tuple[str, int]] = [("light", 1)] + [(f"sat{c}", c) for c in args.concurrency]
    figures = {target: Figures() for target in TARGETS}
    for run in range(args.runs):
        order = TARGETS if run % 2 == 0 else TARGETS[::-1]  # alternate, so drift does not favour one target
        for phase, concurrency in phases:
            per_run: dict[str, dict[str, float]] = {}
            for target in order:
                if phase == "light":
                    result = measure(
                        target, ports[target], paths[target], authorization, procs[target], 1,
                        warmup=args.warmup, requests=args.light_requests,
                    )  # fmt: skip
                else:
                    result = measure(
                        target, ports[target], paths[target], authorization, procs[target], concurrency,
                        warmup=args.warmup, duration=args.saturation_seconds,
                    )  # fmt: skip
                per_run[target] = result
                for name, value in result.items():
                    figures[target].add(f"{phase}_{name}", value)
            d, g = per_run["direct"], per_run["gateway"]
            if phase == "light":
                figures["gateway"].add("added_p50", g["p50"] - d["p50"])
                note(
                    f"run {run + 1}/{args.runs} light: p50 direct {d['p50']:.2f} ms, "
                    f"gateway {g['p50']:.2f} ms ({g['p50'] - d['p50']:+.2f})"
                )
            else:
                figures["gateway"].add(f"{phase}_ratio", g["rps"] / d["rps"])
                note(
                    f"run {run + 1}/{args.runs} {concurrency} connections: direct {d['rps']:.0f} req/s, "
                    f"gateway {g['rps']:.0f} req/s ({g['rps'] / d['rps']:.2f})"
                )
    report(args, figures, phases)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="admin connection for the scratch database")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--light-requests", type=int, default=1000, help="requests per target at light load")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(c) for c in s.split(",") if c],
        default=[16, 32],
        help="connections at saturation, comma-separated (default 16,32)",
    )
    parser.add_argument("--saturation-seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of each load not measured")
    parser.add_argument("--committees", type=int, default=20)
    parser.add_argument("--gateway-http-client", choices=("aiohttp", "httpx", "httpx-aiohttp"), default=None,
                        help="TOCHUC_GATEWAY_HTTP_CLIENT (default: the gateway's own default)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the data dir (and the PostgreSQL database)")
    args = parser.parse_args()

    # SIGTERM (and SIGHUP) unwind like Ctrl-C, so that the finally below stops every child.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))

    command = shlex.join([os.path.relpath(PYTHON, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    cpus = os.cpu_count()
    start_load = os.getloadavg()
    say(f"command: {command}")
    say(
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {cpus} CPUs, Python {sys.version.split()[0]}, "
        f"psutil {psutil.__version__}; database {args.db}; logging at WARNING in orgs and the gateway"
    )
    say(
        f"load average at start: {start_load[0]:.2f} {start_load[1]:.2f} {start_load[2]:.2f} (1/5/15 min) on "
        f"{cpus} CPUs — the machine is SHARED: other jobs inflate latency and lower throughput; CPU per "
        "request is the least affected figure"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="gateway-vs-direct-", dir=OUT))
    failed = True
    try:
        with ExitStack() as stack:
            run_benchmark(args, stack, data_dir)
        failed = False
    finally:
        end_load = os.getloadavg()
        say()
        say(
            f"load average at end: {end_load[0]:.2f} {end_load[1]:.2f} {end_load[2]:.2f} (1/5/15 min) on "
            f"{cpus} CPUs (shared machine)"
        )
        if failed or args.keep:
            say(f"data dir kept: {os.path.relpath(data_dir, ROOT)} (logs/ has each process's output)")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
        say(f"command: {command}")


if __name__ == "__main__":
    main()
