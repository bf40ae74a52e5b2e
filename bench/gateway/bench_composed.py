"""The composed profile against the slowest single service call it makes, and the province's sector report.

The embedded stack's processes, started as ``tochuc up`` starts them (NATS, orgs, cadres, training, the
gateway: each its own process, ``uvicorn --factory``), on a fresh data dir under ``bench/out/``, with the demo
province loaded through the gateway's public API by ``services.demo.load_demo`` (``--db postgresql`` gives
each service a scratch PostgreSQL database, dropped at the end). Logging at WARNING in every process.

1. A cadre to profile: among cadres appointed to a post and cadres sent to courses, the one whose profile has
   the most parts (member record, assignments, plans, enrollments, training needs): the most calls.
2. The service calls that profile makes, each measured directly against its service (``--probe`` requests,
   one connection): the slowest by p50 is "the slowest single call".
3. Light load (1 connection, ``--light-requests``): p50/p99 of the composed profile through the gateway and of
   that slowest call directly, alternating.
4. Saturation (``--concurrency`` connections, ``--saturation-seconds``): throughput of each, the machine's CPU
   busy % (``psutil.cpu_times`` over the window, all CPUs) and the CPU ms per answer of each process.
5. The report: ``GET /api/v1/reports/sector?from=2021-01-01&to=2022-12-31`` (the whole province), sequentially,
   ``--report-requests`` times after one warm-up: p50 and max, and whether it was partial.

``loadgen.py`` is the client (a separate process, closed loop, HTTP/1.1 keep-alive). Targets are printed next to
the figures, not asserted: composed p50 ≤ 1.5× the slowest call at light load; at saturation the composed
throughput ≥ 0.4× the direct call's with the machine ≥ 90 % busy; the report < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench_clients import cpu_seconds, free_port  # noqa: E402
from bench_gateway_vs_direct import (  # noqa: E402
    DEFAULT_PG_URL,
    asyncpg_url,
    child,
    clean_env,
    http,
    loadgen,
    note,
    pg_admin,
    say,
)

SERVICES = ("orgs", "cadres", "training")
TARGET_LIGHT = 1.5  # composed p50 / slowest call p50
TARGET_SATURATION = 0.4  # composed rps / direct rps
TARGET_BUSY = 90.0  # % of all CPUs
TARGET_REPORT_MS = 300.0
REPORT = "/api/v1/reports/sector?from=2021-01-01&to=2022-12-31"


@contextmanager
def embedded_stack(args: argparse.Namespace, data_dir: Path, stack: ExitStack) -> Iterator[dict[str, Any]]:
    """The processes ``tochuc up`` runs, started here as ``shared.supervisor`` starts them (NATS, migrations,
    ``uvicorn --factory`` per service and the gateway, logging at WARNING), then the demo province loaded
    through the gateway with ``services.demo.load_demo`` (what ``tochuc up`` does on a first start)."""
    from services.demo import admin_token, load_demo
    from shared.migrations import upgrade
    from shared.settings import CommonSettings, ServiceSettings
    from shared.testing.nats import NatsServer

    var = data_dir / "var"
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("gateway", *SERVICES)}
    nats = NatsServer(store_dir=var / "nats").start()
    stack.callback(nats.stop)
    extra = {f"TOCHUC_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    extra.update(
        TOCHUC_DATA_DIR=str(var),
        TOCHUC_LOG_LEVEL="WARNING",
        TOCHUC_NATS_URL=nats.url,
        TOCHUC_SERVICES=",".join(SERVICES),
        NO_COLOR="1",
    )
    if args.db == "postgresql":
        names = {s: f"tochuc_bench_composed_{s}_{os.getpid()}" for s in SERVICES}
        drops = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names.values()]
        asyncio.run(pg_admin(args.pg_url, drops + [f'CREATE DATABASE "{n}"' for n in names.values()]))
        stack.callback(lambda: asyncio.run(pg_admin(args.pg_url, drops)))
        extra.update({f"{s.upper()}_DATABASE_URL": asyncpg_url(args.pg_url, n) for s, n in names.items()})
    env = clean_env(extra)
    os.environ.clear()
    os.environ.update(env)  # this process reads the same settings (database URLs, the signing key)
    for service in SERVICES:
        upgrade(service, ServiceSettings.load(service).database_url)
    procs: dict[str, psutil.Process] = {}
    for name in (*SERVICES, "gateway"):
        factory = "gateway.app:create_app" if name == "gateway" else f"services.{name}.app:create_app"
        command = [
            sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
            "--port", str(ports[name]), "--no-access-log",
        ]  # fmt: skip
        ready = f"http://127.0.0.1:{ports[name]}/health/ready"
        procs[name] = stack.enter_context(child(name, command, env, ready, logs))
    settings = CommonSettings()
    if args.reuse:
        note(f"reusing the data dir {data_dir} (its demo province is loaded)")
    else:
        started = time.monotonic()
        asyncio.run(load_demo(settings, f"http://127.0.0.1:{ports['gateway']}"))
        note(f"demo province loaded in {time.monotonic() - started:.1f} s")
    yield {"ports": ports, "procs": procs, "token": admin_token(settings, ttl=86400)}


def get_json(port: int, path: str, token: str) -> Any:
    status, body = http("GET", f"http://127.0.0.1:{port}{path}", token, timeout=30)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    return json.loads(body)


def pick_cadre(gw: int, token: str) -> tuple[str, dict[str, Any]]:
    """Among cadres holding a post (personnel actions) and cadres sent to courses, the one whose profile has
    the most parts filled (a member record, assignments, plans, enrollments, needs)."""
    cadres: list[str] = []
    for path in ("/api/v1/personnel-actions?kind=appointment&limit=100", "/api/v1/enrollments?limit=100"):
        cadres += [item["cadre_id"] for item in get_json(gw, path, token)["items"]]
    best: tuple[int, str, dict[str, Any]] | None = None
    for cadre in dict.fromkeys(cadres):
        profile = get_json(gw, f"/api/v1/cadres/{cadre}/profile", token)
        if profile["partial"]:
            continue
        data = profile["data"]
        parts = ("member", "assignments", "plans", "enrollments", "training_needs")
        score = sum(bool(data[part]) for part in parts)
        if best is None or score > best[0]:
            best = (score, cadre, data)
        if score == len(parts):
            break
    if best is None:
        raise RuntimeError("no whole profile among the demo's cadres")
    return best[1], best[2]


def calls_of(cadre: str, data: dict[str, Any], token: str, gw: int) -> list[tuple[str, str]]:
    """The service calls the gateway makes for this profile (as ``gateway/composition/profile.py``)."""
    cadre_view = get_json(gw, f"/api/v1/cadres/{cadre}", token)
    member = cadre_view["member_id"]
    calls = [("cadres", f"/v1/cadres/{cadre}/dossier"), ("training", f"/v1/cadres/{cadre}/training")]
    if member and data["member"]:
        calls.append(("orgs", f"/v1/members/{member}/summary"))
    org_ids = list(dict.fromkeys(a["org_id"] for a in data["assignments"]))
    if org_ids:
        calls.append(("orgs", "/v1/organizations/paths?" + urlencode([("id", o) for o in org_ids])))
    return calls


def busy_percent(before: Any, after: Any) -> float:
    total = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    return 100.0 * (1 - idle / total) if total else float("nan")


def run_load(
    port: int, path: str, token: str, procs: dict[str, psutil.Process], concurrency: int, **load: Any
) -> dict[str, Any]:
    cpu = {name: cpu_seconds(p) for name, p in procs.items()}
    times = psutil.cpu_times()
    result, loadgen_cpu = loadgen(port, path, f"Bearer {token}", concurrency, **load)
    busy = busy_percent(times, psutil.cpu_times())
    load_avg = os.getloadavg()
    if result.get("connections_lost"):
        raise RuntimeError(f"{path}: {result['connections_lost']} connections lost")
    if result["errors"]:  # counted in the throughput; printed (a composed 502/504 is a figure, not a crash)
        note(f"{path}: {result['errors']} error answers (status >= 400) of {result['requests']}")
    total = result["requests_total"]
    return {
        **result,
        "busy": busy,
        "loadavg": load_avg,
        "cpu_ms": {name: (cpu_seconds(p) - cpu[name]) / total * 1000 for name, p in procs.items()},
        "loadgen_cpu_ms": loadgen_cpu / total * 1000,
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run_benchmark(args: argparse.Namespace, stack: ExitStack, data_dir: Path) -> None:
    env = stack.enter_context(embedded_stack(args, data_dir, stack))
    ports, procs, token = env["ports"], env["procs"], env["token"]
    gw = ports["gateway"]
    cadre, data = pick_cadre(gw, token)
    say(
        f"cadre {cadre}: {len(data['assignments'])} assignment(s), {len(data['plans'] or [])} plan(s), "
        f"{len(data['enrollments'] or [])} enrollment(s), {len(data['training_needs'] or [])} training need(s)"
    )
    profile = f"/api/v1/cadres/{cadre}/profile"

    say(f"\nthe profile's service calls, each directly, 1 connection, {args.probe} requests:")
    probes = []
    for service, path in calls_of(cadre, data, token, gw):
        r = run_load(ports[service], path, token, procs, 1, warmup=0.3, requests=args.probe)
        probes.append((r["p50_ms"], service, path))
        say(f"  {service:8} {path[:80]:80} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms")
    _, slow_service, slow_path = max(probes)
    say(f"slowest: {slow_service} {slow_path}")

    targets = {"composed": (gw, profile), "direct": (ports[slow_service], slow_path)}
    light: dict[str, list[dict[str, Any]]] = {"composed": [], "direct": []}
    sat: dict[str, list[dict[str, Any]]] = {"composed": [], "direct": []}
    for run in range(args.runs):
        order = ("composed", "direct") if run % 2 == 0 else ("direct", "composed")
        for name in order:
            port, path = targets[name]
            light[name].append(
                run_load(port, path, token, procs, 1, warmup=0.5, requests=args.light_requests)
            )
        for name in order:
            port, path = targets[name]
            sat[name].append(
                run_load(
                    port, path, token, procs, args.concurrency, warmup=1.0, duration=args.saturation_seconds
                )
            )
        note(
            f"run {run + 1}/{args.runs}: light p50 composed {light['composed'][-1]['p50_ms']:.2f} / direct "
            f"{light['direct'][-1]['p50_ms']:.2f} ms; saturation {sat['composed'][-1]['rps']:.0f} / "
            f"{sat['direct'][-1]['rps']:.0f} req/s"
        )

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    say(f"\nmedians of {args.runs} run(s); times in ms")
    say(f"light load, 1 connection, {args.light_requests} requests:")
    for name in ("composed", "direct"):
        say(f"  {name:8} p50 {med(light[name], 'p50_ms'):7.2f}  p99 {med(light[name], 'p99_ms'):7.2f}  "
            f"{med(light[name], 'rps'):7.1f} req/s")  # fmt: skip
    ratio = med(light["composed"], "p50_ms") / med(light["direct"], "p50_ms")
    say(
        f"  composed p50 / slowest call p50 = {ratio:.2f}   target ≤ {TARGET_LIGHT}: {verdict(ratio <= TARGET_LIGHT)}"
    )
    say(f"saturation, {args.concurrency} connections, {args.saturation_seconds:.0f} s:")
    for name in ("composed", "direct"):
        rows = sat[name]
        cpu = {p: statistics.median(r["cpu_ms"][p] for r in rows) for p in procs}
        say(f"  {name:8} {med(rows, 'rps'):7.1f} req/s  p50 {med(rows, 'p50_ms'):7.1f}  p99 "
            f"{med(rows, 'p99_ms'):7.1f}  machine busy {med(rows, 'busy'):5.1f} %  load average "
            f"{rows[-1]['loadavg'][0]:.2f}  CPU ms/answer: "
            + ", ".join(f"{p} {ms:.2f}" for p, ms in cpu.items())
            + f", loadgen {med(rows, 'loadgen_cpu_ms'):.2f}; error answers {sum(r['errors'] for r in rows)}")  # fmt: skip
    sat_ratio = med(sat["composed"], "rps") / med(sat["direct"], "rps")
    busy = med(sat["composed"], "busy")
    ok = sat_ratio >= TARGET_SATURATION and busy >= TARGET_BUSY
    say(f"  composed / direct throughput = {sat_ratio:.2f} with the machine {busy:.0f} % busy   target ≥ "
        f"{TARGET_SATURATION} at ≥ {TARGET_BUSY:.0f} % busy: {verdict(ok)}")  # fmt: skip

    say(f"\nthe report, {REPORT} (whole province), {args.report_requests} sequential requests:")
    http("GET", f"http://127.0.0.1:{gw}{REPORT}", token, timeout=60)  # warm-up
    times, partial = [], []
    for _ in range(args.report_requests):
        started = time.perf_counter()
        status, body = http("GET", f"http://127.0.0.1:{gw}{REPORT}", token, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"report: {status} {body[:300]!r}")
        partial.append(json.loads(body)["partial"])
    p50 = statistics.median(times)
    say(f"  p50 {p50:.0f} ms  max {max(times):.0f} ms  partial: {any(partial)}   target < "
        f"{TARGET_REPORT_MS:.0f} ms: {verdict(p50 < TARGET_REPORT_MS and not any(partial))}")  # fmt: skip
    say("  the services' parts, each directly:")
    for service in SERVICES:
        path = "/v1/stats/sector?from=2021-01-01&to=2022-12-31"
        part_times = []
        for _ in range(max(3, args.report_requests // 2)):
            started = time.perf_counter()
            http("GET", f"http://127.0.0.1:{ports[service]}{path}", token, timeout=60)
            part_times.append((time.perf_counter() - started) * 1000)
        say(f"    {service:8} p50 {statistics.median(part_times):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--probe", type=int, default=200, help="requests per service call when probing")
    parser.add_argument("--light-requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--saturation-seconds", type=float, default=8.0)
    parser.add_argument("--report-requests", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument(
        "--reuse", metavar="DIR", help="a kept data dir (SQLite) whose demo is loaded: skip the load, keep it"
    )
    args = parser.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))

    command = shlex.join(
        [os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]]
    )
    cpus = os.cpu_count()
    say(f"command: {command}")
    say(f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {cpus} CPUs; database {args.db}; load average at "
        "start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min; the machine is shared)")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="composed-", dir=OUT))
    failed = True
    try:
        with ExitStack() as stack:
            run_benchmark(args, stack, data_dir)
        failed = False
    finally:
        say("\nload average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        if failed or args.keep or args.reuse:
            say(f"data dir kept: {os.path.relpath(data_dir, ROOT)} (up.log, logs/)")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
