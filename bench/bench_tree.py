"""Benchmarks of the orgs tree on a synthetic national-scale tree. Prints figures; not a test.

For the chosen backend (``--db sqlite``: a file under bench/out/; ``--db postgresql``: a scratch database on
``--pg-url``, dropped at the end) it

1. loads the generated tree with bench/load_tree.py into a freshly migrated database (rows/s);
2. reads the big committee's subtree (10,000 nodes) ``as_of`` a past date: the repository query alone, the
   service call, and ``GET /v1/organizations/{id}/tree?depth=10&as_of=…`` through the real app in-process
   (httpx ASGITransport + asgi-lifespan), wall and CPU time per read;
3. moves that subtree (``POST /v1/organizations/{id}/move``) to a fresh later date each run, alternating
   between two upper committees, and checks the tree the day before and on the day;
4. measures event latency, commit → a consumer's receipt, at ``--rate`` writes/s: the app runs WITH its
   workers (outbox relay) against a real nats-server, the driver PATCHes (amends) distinct cells, and a
   separate consumer process (an ordered JetStream push subscription on ``tochuc.orgs.>``) computes
   receipt time − the CloudEvent ``time``.

    .venv/bin/python bench/bench_tree.py --db sqlite --scale 0.05
    .venv/bin/python bench/bench_tree.py --db postgresql --scale 1
    .venv/bin/python bench/bench_tree.py --db postgresql --scale 1 --only read --keep     # prints the name
    .venv/bin/python bench/bench_tree.py --db postgresql --scale 1 --only read --reuse tochuc_bench_orgs_…
"""

# ruff: noqa: ASYNC110, ASYNC220  (a benchmark driver: long report lines; blocking calls are deliberate)

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
READ_AS_OF = dt.date(2021, 6, 30)
FIRST_MOVE = dt.date(2022, 1, 3)
AMEND_FROM = dt.date(2024, 1, 1)


# --------------------------------------------------------------------------------------------- helpers


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def count_tree(node: dict[str, Any]) -> int:
    n, stack = 0, [node]
    while stack:
        cur = stack.pop()
        n += 1
        stack.extend(cur["children"])
    return n


def say(line: str = "") -> None:
    print(line, flush=True)


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


async def fresh_database(args: argparse.Namespace, label: str) -> str:
    """A freshly migrated, empty orgs database; returns its SQLAlchemy URL."""
    from shared.migrations import upgrade
    from shared.settings import sqlite_url

    if args.db == "sqlite":
        path = OUT / f"orgs-bench-{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(path)
    else:
        name = f"tochuc_bench_orgs_{os.getpid()}_{label}"
        await pg_admin(
            args.pg_url, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']
        )
        args.created.append(name)
        say(f"  PostgreSQL database {name}{' (kept: --keep)' if args.keep else ''}")
        url = asyncpg_url(args.pg_url, name)
    await asyncio.to_thread(upgrade, "orgs", url)
    return url


def settings_for(url: str, nats_url: str) -> Any:
    from shared.settings import ServiceSettings

    data_dir = OUT / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TOCHUC_DATA_DIR"] = str(data_dir)
    return ServiceSettings.load("orgs", env="test", data_dir=data_dir, database_url=url, nats_url=nats_url)


def auth_header(settings: Any) -> dict[str, str]:
    from shared.auth import load_or_create_dev_key, mint_token

    key = load_or_create_dev_key(settings.dev_key_path)
    token = mint_token(
        key,
        sub="bench",
        roles=["admin"],
        ttl=6 * 3600,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return {"Authorization": f"Bearer {token}"}


class RunningApp:
    """The real orgs app, lifespan entered, with an in-process client."""

    def __init__(self, url: str, nats_url: str, *, workers: bool) -> None:
        self.settings = settings_for(url, nats_url)
        self.headers = auth_header(self.settings)
        self.workers = workers

    async def __aenter__(self) -> RunningApp:
        import httpx
        from asgi_lifespan import LifespanManager

        from services.orgs.app import create_app

        self.app = create_app(self.settings, run_workers=self.workers)
        self._lifespan = LifespanManager(self.app, startup_timeout=30, shutdown_timeout=30)
        manager = await self._lifespan.__aenter__()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://orgs",
            headers=self.headers,
            timeout=120,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self._lifespan.__aexit__(None, None, None)


# ------------------------------------------------------------------------------------------------ load


async def bench_load(args: argparse.Namespace, tree: Any) -> tuple[str, Any, list[float]]:
    from load_tree import load

    rates, loaded, url = [], None, ""
    for run in range(args.load_runs):
        url = await fresh_database(args, f"load{run}")
        loaded = await load(url, tree, chunk=args.chunk)
        rates.append(loaded.rows_per_second)
        say(
            f"  load run {run + 1}: {len(tree.nodes):,} organizations, {loaded.rows:,} rows in "
            f"{loaded.seconds:.1f} s = {loaded.rows_per_second:,.0f} rows/s"
        )
    # Keep only the last database.
    if args.db == "postgresql":
        stale = args.created[:-1]
        if stale:
            await pg_admin(args.pg_url, [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in stale])
            del args.created[:-1]
    return url, loaded, rates


# ----------------------------------------------------------------------------------------------- reads


async def bench_reads(
    args: argparse.Namespace,
    url: str,
    tree: Any,
    loaded: Any,
    results: dict[str, Any],
    label: str = "read",
    as_of: dt.date = READ_AS_OF,
) -> None:
    from services.orgs.organizations import repository as repo
    from services.orgs.organizations import service
    from shared.auth import Principal

    targets = [("big committee", tree.big), ("upper committee VN.U02", tree.move_parents[1])]
    async with RunningApp(url, "nats://127.0.0.1:1", workers=False) as svc:
        db = svc.app.state.db
        principal = Principal(sub="bench", roles=frozenset({"admin"}))
        for what, index in targets:
            org_id = loaded.ids[index]
            node = loaded.nodes[index]
            async with db.session() as session:
                root = await repo.row_at(session, node, as_of)
            assert root is not None
            repo_ms, svc_ms, http_ms, http_cpu_ms = [], [], [], []
            size = 0
            for run in range(args.runs + 1):  # the first run warms up and is not counted
                async with db.session() as session:
                    t0 = time.perf_counter()
                    rows = await repo.tree_rows(session, root["path"], as_of, root["depth"] + 10)
                    t1 = time.perf_counter()
                async with db.session() as session:
                    t2 = time.perf_counter()
                    await service.tree_json(session, principal, org_id, as_of, 10)
                    t3 = time.perf_counter()
                c0 = time.process_time()
                t4 = time.perf_counter()
                response = await svc.client.get(
                    f"/v1/organizations/{org_id}/tree", params={"depth": 10, "as_of": as_of.isoformat()}
                )
                t5 = time.perf_counter()
                c1 = time.process_time()
                response.raise_for_status()
                if run == 0:
                    size = count_tree(response.json())
                    body_kb = len(response.content) / 1024
                    continue
                repo_ms.append((t1 - t0) * 1000)
                svc_ms.append((t3 - t2) * 1000)
                http_ms.append((t5 - t4) * 1000)
                http_cpu_ms.append((c1 - c0) * 1000)
            entry = {
                "nodes": size,
                "repo_rows": len(rows),
                "repo_ms": median(repo_ms),
                "service_ms": median(svc_ms),
                "http_ms": median(http_ms),
                "http_cpu_ms": median(http_cpu_ms),
                "http_min_ms": min(http_ms),
                "http_cpu_min_ms": min(http_cpu_ms),
                "body_kb": body_kb,
                "runs": args.runs,
                "loadavg_1m": os.getloadavg()[0],
            }
            results.setdefault(label, {})[what] = entry
            say(
                f"  {what} ({tree.nodes[index].code}) as_of {as_of}: {size:,} nodes in the HTTP tree "
                f"({body_kb:,.0f} KiB), repo query {len(rows):,} rows; medians of {args.runs}: "
                f"repo {entry['repo_ms']:.1f} ms · service.tree_json {entry['service_ms']:.1f} ms · "
                f"HTTP {entry['http_ms']:.1f} ms (CPU {entry['http_cpu_ms']:.1f} ms; min {min(http_ms):.1f} ms, "
                f"CPU min {min(http_cpu_ms):.1f} ms; load average {entry['loadavg_1m']:.2f})"
                f"{'  [target < 100 ms: ' + ('MET' if entry['http_ms'] < 100 else 'MISSED') + ']' if index == tree.big else ''}"
            )


# ----------------------------------------------------------------------------------------------- moves


async def bench_moves(
    args: argparse.Namespace, url: str, tree: Any, loaded: Any, results: dict[str, Any]
) -> None:
    from services.orgs.organizations import repository as repo

    big_id = loaded.ids[tree.big]
    parent_a, parent_b = (loaded.ids[i] for i in tree.move_parents)
    # a cell deep in the big subtree: its path must follow the move
    deep = next(n.index for n in tree.nodes if n.level == "cell" and n.code.startswith("VN.U01.BIG."))
    deep_id = loaded.ids[deep]
    times, checks = [], []
    async with RunningApp(url, "nats://127.0.0.1:1", workers=False) as svc:
        db = svc.app.state.db
        # A reused database (--reuse) may hold the moves of earlier runs: changes come in date order, so
        # start a week after its latest one, from wherever the committee sits now.
        first = FIRST_MOVE
        async with db.session() as session:
            current = await repo.current_row(session, loaded.nodes[tree.big])
            assert current is not None
            latest = await repo.latest_change_in_subtree(session, current["path"])
        if latest is not None and latest >= first:
            first = latest + dt.timedelta(days=7)
        if current["parent_node"] == loaded.nodes[tree.move_parents[1]]:
            parent_a, parent_b = parent_b, parent_a
        for run in range(args.move_runs):
            day = first + dt.timedelta(days=7 * run)
            before = day - dt.timedelta(days=1)
            old_parent, new_parent = (parent_a, parent_b) if run % 2 == 0 else (parent_b, parent_a)
            t0 = time.perf_counter()
            response = await svc.client.post(
                f"/v1/organizations/{big_id}/move",
                json={
                    "parent_id": str(new_parent),
                    "effective_on": day.isoformat(),
                    "decision_no": f"{run + 1}-QĐ/BENCH",
                },
            )
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                say(f"  move {run + 1}: HTTP {response.status_code} {response.text[:300]}")
                checks.append(False)
                continue
            times.append(elapsed)

            async def parent_on(org: Any, on: dt.date) -> tuple[str | None, list[str]]:
                r = await svc.client.get(f"/v1/organizations/{org}", params={"as_of": on.isoformat()})
                r.raise_for_status()
                body = r.json()
                return body["parent_id"], body["path"]

            p_before, _ = await parent_on(big_id, before)
            p_on, _ = await parent_on(big_id, day)
            _, deep_before = await parent_on(deep_id, before)
            _, deep_on = await parent_on(deep_id, day)
            tree_on = (
                await svc.client.get(
                    f"/v1/organizations/{big_id}/tree", params={"depth": 10, "as_of": day.isoformat()}
                )
            ).json()
            tree_before = (
                await svc.client.get(
                    f"/v1/organizations/{big_id}/tree", params={"depth": 10, "as_of": before.isoformat()}
                )
            ).json()
            ok = (
                p_before == str(old_parent)
                and p_on == str(new_parent)
                and str(old_parent) in deep_before
                and str(new_parent) in deep_on
                and str(old_parent) not in deep_on
                and count_tree(tree_on) == count_tree(tree_before) == tree.subtree_size(tree.big)
            )
            async with db.session() as session:
                row = await repo.row_at(session, loaded.nodes[tree.big], day)
                deep_row = await repo.row_at(session, loaded.nodes[deep], day)
            depth_ok = (
                row is not None and row["depth"] == 2 and deep_row is not None and deep_row["depth"] == 4
            )
            checks.append(ok)
            results.setdefault("move_depth_checks", []).append(
                {
                    "run": run + 1,
                    "big_depth": row["depth"] if row else None,
                    "deep_depth": deep_row["depth"] if deep_row else None,
                }
            )
            say(
                f"  move {run + 1} on {day} → {'VN.U02' if new_parent == loaded.ids[tree.move_parents[1]] else 'VN.U01'}: {elapsed:,.0f} ms; "
                f"parent the day before / on the day: {'OK' if ok else 'FAIL'}; stored depth of the moved "
                f"committee {row['depth'] if row else None} (expected 2), of a cell "
                f"{deep_row['depth'] if deep_row else None} (expected 4): {'OK' if depth_ok else 'FAIL'}"
            )
    results["move"] = {
        "ms": median(times),
        "min_ms": min(times) if times else None,
        "max_ms": max(times) if times else None,
        "runs": len(times),
        "nodes": tree.subtree_size(tree.big),
        "checks_ok": all(checks) and bool(checks),
        "loadavg_1m": os.getloadavg()[0],
    }
    say(
        f"  move of {tree.subtree_size(tree.big):,} nodes: median {median(times):,.0f} ms over {len(times)} runs "
        f"[target < 1 s: {'MET' if median(times) < 1000 else 'MISSED'}]; checks {'OK' if results['move']['checks_ok'] else 'FAIL'}"
    )


# --------------------------------------------------------------------------------------------- latency


async def consumer_main(nats_url: str) -> None:
    """A separate process: receipt time − CloudEvent ``time`` for every event on tochuc.orgs.> ."""
    import nats
    from nats.js.api import DeliverPolicy

    received: list[tuple[float, bytes]] = []
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for _ in range(200):
        try:
            await js.stream_info("TOCHUC_ORGS")
            break
        except Exception:
            await asyncio.sleep(0.05)

    async def on_message(msg: Any) -> None:
        received.append((time.time(), msg.data))

    await js.subscribe(
        "tochuc.orgs.>", cb=on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    print("ready", flush=True)
    expected = int(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline) or 0)
    deadline = time.monotonic() + 60
    while len(received) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await nc.close()
    latencies = []
    for at, data in received:
        event = json.loads(data)
        sent = dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
        latencies.append((at - sent) * 1000)
    print(json.dumps({"received": len(received), "latencies_ms": latencies}), flush=True)


async def bench_latency(
    args: argparse.Namespace,
    url: str,
    tree: Any,
    loaded: Any,
    results: dict[str, Any],
    *,
    rate: float,
    offset: int,
    label: str,
) -> float:
    """One open-loop run at ``rate`` writes/s; returns the achieved rate."""
    from shared.testing.nats import NatsServer

    store = OUT / f"nats-{args.db}-{os.getpid()}"
    server = NatsServer(store_dir=store).start()
    consumer = None
    try:
        consumer = subprocess.Popen(
            [sys.executable, __file__, "--consumer", server.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        async with RunningApp(url, server.url, workers=True) as svc:
            nats = svc.app.state.nats
            await nats.wait_connected(timeout=10)
            ready = await asyncio.to_thread(consumer.stdout.readline)  # type: ignore[union-attr]
            assert ready.strip() == "ready", ready
            # distinct cells outside the big (moving) subtree, each amended once
            cells = [n for n in tree.nodes if n.level == "cell" and not n.code.startswith("VN.U01.BIG")]
            cells = cells[offset:]
            total = int(rate * args.seconds)
            if len(cells) < total:
                say(f"  only {len(cells)} cells to amend; fewer writes than asked")
                total = len(cells)
            write_ms: list[float] = []
            statuses: dict[int, int] = {}
            in_flight = asyncio.Semaphore(args.max_in_flight)

            async def amend(i: int) -> None:
                node = cells[i]
                body = {
                    "name": f"{node.name} (đổi tên {i})",
                    "effective_on": (AMEND_FROM + dt.timedelta(days=i // 1000)).isoformat(),
                }
                async with in_flight:
                    t0 = time.perf_counter()
                    r = await svc.client.patch(f"/v1/organizations/{loaded.ids[node.index]}", json=body)
                    write_ms.append((time.perf_counter() - t0) * 1000)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code != 200 and statuses[r.status_code] == 1:
                    say(f"  amend → {r.status_code}: {r.text[:300]}")

            c0 = time.process_time()
            started = time.perf_counter()
            tasks = []
            for i in range(total):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(amend(i)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - c0
            ok = statuses.get(200, 0)
            # let the relay drain
            from shared.relay import outbox_backlog

            for _ in range(600):
                async with svc.app.state.db.session() as session:
                    backlog, _age = await outbox_backlog(session)
                if backlog == 0:
                    break
                await asyncio.sleep(0.05)
        consumer.stdin.write(f"{ok}\n")  # type: ignore[union-attr]
        consumer.stdin.flush()  # type: ignore[union-attr]
        out, _ = await asyncio.to_thread(consumer.communicate, timeout=120)
        report = json.loads(out.strip().splitlines()[-1])
        lat = report["latencies_ms"]
        entry = {
            "asked_rate": rate,
            "seconds": args.seconds,
            "writes_ok": ok,
            "statuses": statuses,
            "achieved_rate": ok / elapsed,
            "received": report["received"],
            "p50_ms": pct(lat, 50),
            "p95_ms": pct(lat, 95),
            "p99_ms": pct(lat, 99),
            "max_ms": max(lat or [0]),
            "write_p50_ms": pct(write_ms, 50),
            "write_p99_ms": pct(write_ms, 99),
            "cpu_per_write_ms": cpu / max(total, 1) * 1000,
        }
        entry["loadavg_1m"] = os.getloadavg()[0]
        results[label] = entry
        say(
            f"  {ok:,} amendments in {elapsed:.1f} s = {entry['achieved_rate']:.0f} writes/s (asked {rate:.0f}/s; "
            f"HTTP statuses {statuses}); HTTP write p50 {entry['write_p50_ms']:.1f} ms p99 {entry['write_p99_ms']:.1f} ms; "
            f"driver+app CPU {entry['cpu_per_write_ms']:.2f} ms/write"
        )
        say(
            f"  events received {report['received']:,}; latency CloudEvent time → receipt: p50 {entry['p50_ms']:.1f} ms · "
            f"p95 {entry['p95_ms']:.1f} ms · p99 {entry['p99_ms']:.1f} ms · max {entry['max_ms']:.1f} ms "
            f"[target p99 < 50 ms: {'MET' if entry['p99_ms'] < 50 else 'MISSED'}]"
        )
        return float(entry["achieved_rate"])
    finally:
        if consumer is not None and consumer.poll() is None:
            consumer.kill()
        server.cleanup()
        shutil.rmtree(store, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from generate_tree import generate

    from shared.settings import sqlite_url

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "db": args.db,
        "scale": args.scale,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    t0 = time.perf_counter()
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    say(
        f"[{args.db}] generated {len(tree.nodes):,} organizations (scale {args.scale}, seed {args.seed}) in "
        f"{time.perf_counter() - t0:.1f} s; big committee subtree {tree.subtree_size(tree.big):,} nodes"
    )
    results["nodes"] = len(tree.nodes)
    try:
        if args.reuse:
            from load_tree import loaded_as_generated

            # A database this program loaded earlier (--keep) with the same --scale/--seed/--big-subtree.
            url = (
                asyncpg_url(args.pg_url, args.reuse)
                if args.db == "postgresql"
                else sqlite_url(Path(args.reuse).resolve())
            )
            loaded = loaded_as_generated(tree)
            say(f"reusing {args.reuse} (no load; not dropped)")
        else:
            say(
                "load (bench loader: organizations + organization_versions + organization_changes; outbox skipped)"
            )
            url, loaded, rates = await bench_load(args, tree)
            results["load"] = {
                "rows": loaded.rows,
                "rows_per_s": median(rates),
                "runs": len(rates),
                "seconds": loaded.rows / median(rates),
            }
        if "read" in args.only:
            say(f"subtree read as_of {READ_AS_OF}")
            await bench_reads(args, url, tree, loaded, results)
        if "move" in args.only:
            say("move of the big committee")
            await bench_moves(args, url, tree, loaded, results)
            if "read" in args.only:
                say(
                    f"subtree read as_of {READ_AS_OF} again, after the moves (more closed states in the path range)"
                )
                await bench_reads(args, url, tree, loaded, results, label="read_after_moves")
        if "latency" in args.only:
            say(
                f"event latency at {args.rate:.0f} writes/s for {args.seconds} s (app with workers, real nats-server)"
            )
            achieved = await bench_latency(
                args, url, tree, loaded, results, rate=args.rate, offset=0, label="latency"
            )
            if achieved < 0.9 * args.rate:
                # Saturated: the queue of writers dominates. Measure again below the capacity just found.
                slower = max(5.0, round(0.6 * achieved))
                say(
                    f"event latency at {slower:.0f} writes/s (60 % of the rate achieved above) for {args.seconds} s"
                )
                await bench_latency(
                    args,
                    url,
                    tree,
                    loaded,
                    results,
                    rate=slower,
                    offset=int(args.rate * args.seconds) + 1,
                    label="latency_below_capacity",
                )
    finally:
        if args.db == "postgresql" and args.created and not args.keep:
            await pg_admin(args.pg_url, [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in args.created])
    return results


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--consumer":
        asyncio.run(consumer_main(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TOCHUC_BENCH_PG_URL", DEFAULT_PG),
        help="an admin connection; a scratch database is created and dropped",
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-subtree", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="organizations per load transaction")
    parser.add_argument("--load-runs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per read (after one warm-up)")
    parser.add_argument("--move-runs", type=int, default=6)
    parser.add_argument("--rate", type=float, default=500.0, help="writes/s for the latency benchmark")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--only", default="read,move,latency", help="comma list of read, move, latency")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    parser.add_argument(
        "--reuse",
        help="skip the load: a database kept earlier (PostgreSQL: its name; SQLite: the file), loaded with the "
        "same --scale/--seed/--big-subtree; read and move on it (moves change it)",
    )
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    args.created = []
    results = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    say(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
