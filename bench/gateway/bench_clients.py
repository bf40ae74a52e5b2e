"""Which HTTP client should the gateway forward with? Measure it.

Starts the stand-in service (``upstream_app.py``, one uvicorn worker) and, for each candidate client, the real
gateway (``python -m gateway``, one process, JSON logs at INFO to /dev/null) with
``TOCHUC_GATEWAY_HTTP_CLIENT`` set; then drives ``GET /api/v1/organizations/{id}`` with ``loadgen.py`` (a
separate process) and compares with calling the service directly:

- light load: one connection, one request at a time → latency p50/p99 and what the gateway adds;
- saturation: ``--concurrency`` connections → throughput (and its ratio to direct), latency;
- the gateway's CPU time per forwarded call (psutil, over every request the load generator completed).

Runs are interleaved (direct, then each client, repeated ``--runs`` times) and the table shows medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHON = sys.executable
ORG_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
CLIENTS = ("aiohttp", "httpx-aiohttp", "httpx")


async def _client_only(client: str, base_url: str, concurrency: int, requests: int) -> dict[str, float]:
    """CPU per call of the gateway's own upstream code (gateway.upstream) with ``client``, nothing else."""
    import asyncio

    from gateway.upstream import make_upstream

    upstream = make_upstream(client, "orgs", base_url, timeout=5.0, max_connections=100, keepalive=4.0)
    target = f"/v1/organizations/{ORG_ID}"
    headers = [
        ("authorization", "Bearer " + "x" * 200),
        ("accept", "application/json"),
        ("x-request-id", "r"),
    ]
    wanted = ("content-type", "etag", "location", "cache-control")

    async def worker(count: int) -> None:
        for _ in range(count):
            answer = await upstream.request("GET", target, headers=headers, want_headers=wanted)
            assert answer.status == 200

    await asyncio.gather(*(worker(20) for _ in range(concurrency)))  # warm up: open the connections
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await upstream.aclose()
    done = requests // concurrency * concurrency
    return {"cpu_ms": cpu / done * 1000, "rps": done / wall}


def client_only(client: str, port: int, concurrency: int, requests: int) -> dict[str, float]:
    code = (
        "import asyncio, json, sys; sys.path[:0] = sys.argv[1:3]; import bench_clients as b; "
        "a = sys.argv[3:]; "
        "print(json.dumps(asyncio.run(b._client_only(a[0], a[1], int(a[2]), int(a[3])))))"
    )
    args = [
        PYTHON, "-c", code, str(HERE), str(ROOT), client, f"http://127.0.0.1:{port}", str(concurrency),
        str(requests),
    ]  # fmt: skip
    result = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(args: list[str], health_url: str, env: dict[str, str] | None = None) -> Iterator[psutil.Process]:
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(health_url, proc)
        yield psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def runqueue_wait_seconds(proc: psutil.Process) -> float:
    """Time the process's threads were runnable but waiting for a CPU (Linux schedstat): contention."""
    total = 0
    for task in Path(f"/proc/{proc.pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def load(port: int, path: str, concurrency: int, duration: float, warmup: float) -> dict[str, Any]:
    args = [
        PYTHON, str(HERE / "loadgen.py"), "--port", str(port), "--path", path,
        "--concurrency", str(concurrency), "--duration", str(duration), "--warmup", str(warmup),
    ]  # fmt: skip
    result = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@dataclass
class Figures:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        values = self.samples.get(name)
        return statistics.median(values) if values else float("nan")


def measure(
    target: str, port: int, path: str, procs: dict[str, psutil.Process], args: argparse.Namespace
) -> dict[str, float]:
    out: dict[str, float] = {}
    load(port, path, 8, 1.0, 0.2)  # warm up: connections, caches, lazy imports
    for phase, concurrency, duration in (
        ("light", 1, args.light_seconds),
        ("sat", args.concurrency, args.saturation_seconds),
    ):
        before = {name: cpu_seconds(p) for name, p in procs.items()}
        waited = {name: runqueue_wait_seconds(p) for name, p in procs.items()}
        result = load(port, path, concurrency, duration, args.warmup)
        after = {name: cpu_seconds(p) for name, p in procs.items()}
        waited = {name: runqueue_wait_seconds(p) - waited[name] for name, p in procs.items()}
        if result["errors"]:
            raise RuntimeError(f"{target} {phase}: {result['errors']} error answers")
        out[f"{phase}_rps"] = result["rps"]
        out[f"{phase}_p50"] = result["p50_ms"]
        out[f"{phase}_p99"] = result["p99_ms"]
        for name in procs:
            out[f"{phase}_cpu_{name}"] = (after[name] - before[name]) / result["requests_total"] * 1000
            out[f"{phase}_wait_{name}"] = waited[name] / result["requests_total"] * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--clients", default=",".join(CLIENTS), help="comma-separated, of: " + ", ".join(CLIENTS)
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections at saturation")
    parser.add_argument("--light-seconds", type=float, default=3.0)
    parser.add_argument("--saturation-seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of each load not measured")
    parser.add_argument("--log-level", default="INFO", help="the gateway's TOCHUC_LOG_LEVEL")
    parser.add_argument("--client-requests", type=int, default=2000, help="calls per client-only measure")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    targets = ["direct", *clients]

    upstream_port = free_port()
    upstream_cmd = [
        PYTHON, "-m", "uvicorn", "--app-dir", str(HERE), "upstream_app:app", "--port", str(upstream_port),
        "--workers", "1", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    figures = {target: Figures() for target in targets}
    load_before = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {args.runs} runs", file=sys.stderr)
    with process(upstream_cmd, f"http://127.0.0.1:{upstream_port}/health/live") as upstream:
        for run in range(args.runs):
            for target in targets:
                if target == "direct":
                    result = measure(
                        target, upstream_port, f"/v1/organizations/{ORG_ID}", {"upstream": upstream}, args
                    )
                else:
                    gateway_port = free_port()
                    env = {
                        "TOCHUC_GATEWAY_PORT": str(gateway_port),
                        "TOCHUC_ORGS_URL": f"http://127.0.0.1:{upstream_port}",
                        "TOCHUC_GATEWAY_HTTP_CLIENT": target,
                        "TOCHUC_LOG_LEVEL": args.log_level,
                    }
                    with process(
                        [PYTHON, "-m", "gateway"], f"http://127.0.0.1:{gateway_port}/health/live", env
                    ) as gateway:
                        result = measure(
                            target,
                            gateway_port,
                            f"/api/v1/organizations/{ORG_ID}",
                            {"gateway": gateway, "upstream": upstream},
                            args,
                        )
                if target != "direct":
                    for concurrency in (1, args.concurrency):
                        alone = client_only(target, upstream_port, concurrency, args.client_requests)
                        result[f"client_cpu_c{concurrency}"] = alone["cpu_ms"]
                for name, value in result.items():
                    figures[target].add(name, value)
                print(
                    f"run {run + 1}/{args.runs} {target:>13}: light p50 {result['light_p50']:.2f} ms, "
                    f"saturation {result['sat_rps']:.0f} req/s",
                    file=sys.stderr,
                )

    load_after = os.getloadavg()[0]
    direct = figures["direct"]
    header = (
        f"{'target':>13} | {'light p50':>9} {'p99':>6} {'added':>6} {'gw cpu':>7} | "
        f"{'sat req/s':>9} {'ratio':>5} {'p50':>6} {'p99':>6} {'gw cpu':>7} | {'svc cpu':>7} | "
        f"{'rq wait':>7}"
    )
    print()
    print(f"medians of {args.runs} runs; times in ms; cpu = CPU ms per call; ratio = throughput / direct")
    print(
        "rq wait = ms per call the gateway (direct: the service) was runnable but waiting for a CPU at "
        "saturation; well above 0, the machine is contended and throughput/latency figures are not reliable"
    )
    print(header)
    print("-" * len(header))
    for target in targets:
        f = figures[target]
        is_gateway = target != "direct"
        added = f.median("light_p50") - direct.median("light_p50") if is_gateway else 0.0
        ratio = f.median("sat_rps") / direct.median("sat_rps")
        gw_light = f"{f.median('light_cpu_gateway'):7.3f}" if is_gateway else f"{'-':>7}"
        gw_sat = f"{f.median('sat_cpu_gateway'):7.3f}" if is_gateway else f"{'-':>7}"
        print(
            f"{target:>13} | {f.median('light_p50'):9.2f} {f.median('light_p99'):6.2f} "
            f"{added:6.2f} {gw_light} | "
            f"{f.median('sat_rps'):9.0f} {ratio:5.2f} {f.median('sat_p50'):6.2f} {f.median('sat_p99'):6.2f} "
            f"{gw_sat} | {f.median('sat_cpu_upstream'):7.3f} | "
            f"{f.median('sat_wait_gateway' if is_gateway else 'sat_wait_upstream'):7.3f}"
        )
    print()
    print(
        "the client alone (gateway.upstream, no server side), CPU ms per call, "
        f"concurrency 1 / {args.concurrency}:"
    )
    for target in clients:
        f = figures[target]
        c1, cn = f.median("client_cpu_c1"), f.median(f"client_cpu_c{args.concurrency}")
        print(f"{target:>13} | {c1:7.3f} / {cn:7.3f}")
    print()
    print(f"machine load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    print("repeat with: " + shlex.join([".venv/bin/python", "bench/gateway/bench_clients.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
