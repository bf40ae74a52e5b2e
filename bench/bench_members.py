"""Benchmarks of Party members at national scale: load, the sector report, name search. Prints figures.

For the chosen backend (``--db sqlite``: a file under bench/out/; ``--db postgresql``: a scratch database on
``--pg-url``, dropped at the end unless ``--keep``) it

1. loads the generated tree (bench/load_tree.py) and then the generated members (bench/load_members.py:
   COPY on PostgreSQL, executemany on SQLite) into a freshly migrated database: members/s;
2. through the real app in-process (httpx ASGITransport + asgi-lifespan, ``run_workers=False``, an admin
   token minted with the data dir's development key), medians of ``--runs`` after one warm-up:
   ``GET /v1/stats/sector?from=2021-01-01&to=2022-12-31`` for the whole country, for the big committee
   ``VN.U01.BIG`` and for the upper committee ``VN.U02`` (``within=``); and
   ``GET /v1/members?q=…&limit=50`` for a common name and a rare one (no diacritics);
3. per request, the time of every SQL statement (engine events around the driver's execute), and on
   PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements, printed (``--plans`` of them).

    .venv/bin/python bench/bench_members.py --db sqlite --scale 0.05
    .venv/bin/python bench/bench_members.py --db postgresql --scale 0.25 --reuse tochuc_bench_orgs_NNN_members
    .venv/bin/python bench/bench_members.py --db postgresql --scale 1 --json bench/out/members-pg-1.0.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tree import DEFAULT_PG, OUT, RunningApp, fresh_database, median, pg_admin, say  # noqa: E402

PERIOD = {"from": "2021-01-01", "to": "2022-12-31"}
COMMON_NAME = "nguyen van an"
RARE_NAME = "trieu thi nguyet"  # Triệu (0.1 %) × Thị × Nguyệt: a handful nationally
# More searches (no target of their own): very common (family, middle names), a given name early and one late
# in the sort order, and a common query whose matches all sit late in the order.
MORE_SEARCHES = ("nguyen", "thi", "an", "yen", "nguyen thi yen", "0000123")


def load1() -> float:
    return os.getloadavg()[0]


class StatementTimer:
    """Times every statement the engine sends (cursor execute), keeping the text and parameters."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine.sync_engine
        self.records: list[tuple[float, str, Any]] = []
        self.on = False

        @event.listens_for(self.engine, "before_cursor_execute")
        def _before(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        @event.listens_for(self.engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if self.on:
                elapsed = (time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())) * 1000
                self.records.append((elapsed, statement, parameters))

    def start(self) -> None:
        self.records = []
        self.on = True

    def stop(self) -> list[tuple[float, str, Any]]:
        self.on = False
        return self.records


def short(statement: str, width: int = 110) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def timed_get(
    svc: RunningApp, timer: StatementTimer, path: str, params: dict[str, Any], runs: int
) -> dict[str, Any]:
    """Median wall/CPU of ``runs`` GETs after one warm-up, and the statements of the last run."""
    wall, cpu = [], []
    body: Any = None
    statements: list[tuple[float, str, Any]] = []
    for run in range(runs + 1):
        timer.start()
        c0, t0 = time.process_time(), time.perf_counter()
        response = await svc.client.get(path, params=params)
        t1, c1 = time.perf_counter(), time.process_time()
        statements = timer.stop()
        response.raise_for_status()
        if run == 0:
            body = response.json()
            continue
        wall.append((t1 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
    return {
        "ms": median(wall),
        "min_ms": min(wall),
        "max_ms": max(wall),
        "cpu_ms": median(cpu),
        "runs": runs,
        "sql_ms": sum(s[0] for s in statements),
        "statements": [(round(ms, 1), short(st)) for ms, st, _ in sorted(statements, key=lambda s: -s[0])],
        "_raw": statements,
        "body": body,
        "loadavg_1m": load1(),
    }


async def explain(url: str, statement: str, parameters: Any) -> list[str]:
    import asyncpg
    from load_members import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *(parameters or ()))
    finally:
        await conn.close()
    return [r[0] for r in rows]


async def count_sql(url: str, sql: str, *args: Any) -> int:
    if url.startswith("sqlite"):
        return -1
    import asyncpg
    from load_members import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from generate_members import expected_members
    from generate_tree import generate

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "db": args.db,
        "scale": args.scale,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    say(
        f"[{args.db}] tree: {len(tree.nodes):,} organizations (scale {args.scale}, seed {args.seed}); "
        f"~{expected_members(tree):,} members expected  (load avg {load1():.2f})"
    )
    try:
        if args.reuse:
            url, big_id, upper_id = await reuse_database(args, tree)
        else:
            url, big_id, upper_id = await load_fresh(args, tree, results)
        await measure(args, url, big_id, upper_id, results)
    finally:
        if args.db == "postgresql" and args.created and not args.keep:
            await pg_admin(args.pg_url, [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in args.created])
    return results


async def reuse_database(args: argparse.Namespace, tree: Any) -> tuple[str, str, str]:
    """``--reuse NAME``: an existing database of the same tree, upgraded to head; no load."""
    import asyncpg
    from bench_tree import asyncpg_url
    from load_members import asyncpg_dsn

    from shared.migrations import upgrade

    url = asyncpg_url(args.pg_url, args.reuse)
    say(f"  reusing PostgreSQL database {args.reuse} (upgraded to head; no load)")
    await asyncio.to_thread(upgrade, "orgs", url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        ids = {
            r["code"]: str(r["id"])
            for r in await conn.fetch(
                "SELECT code, id FROM organizations WHERE code = ANY($1::text[])",
                [tree.nodes[tree.big].code, tree.nodes[tree.move_parents[1]].code],
            )
        }
    finally:
        await conn.close()
    return url, ids[tree.nodes[tree.big].code], ids[tree.nodes[tree.move_parents[1]].code]


async def load_fresh(args: argparse.Namespace, tree: Any, results: dict[str, Any]) -> tuple[str, str, str]:
    from load_members import load as load_members
    from load_tree import load as load_tree

    url = await fresh_database(args, "members")
    loaded_tree = await load_tree(url, tree)
    say(f"  tree loaded: {loaded_tree.rows:,} rows in {loaded_tree.seconds:.1f} s")
    la0 = load1()
    loaded = await load_members(
        url, tree, seed=args.seed, chunk=args.chunk, defer_indexes=not args.keep_indexes
    )
    results["load"] = {
        "members": loaded.members,
        "states": loaded.states,
        "db_seconds": loaded.seconds,
        "wall_seconds": loaded.wall,
        "members_per_s": loaded.members_per_second,
        "rows_per_s": loaded.rows_per_second,
        "members_per_s_with_generation": loaded.members / loaded.wall,
        "analyze_seconds": loaded.analyze_seconds,
        "rebuild_seconds": loaded.rebuild_seconds,
        "indexes_deferred": not args.keep_indexes,
        "loadavg_1m": [la0, load1()],
    }
    say(
        f"load: {loaded.members:,} members + {loaded.states:,} states in {loaded.seconds:.1f} s of database time = "
        f"{loaded.members_per_second:,.0f} members/s ({loaded.rows_per_second:,.0f} rows/s) "
        f"[target ≥ 20,000 members/s: {'MET' if loaded.members_per_second >= 20_000 else 'MISSED'}]; "
        f"{loaded.members / loaded.wall:,.0f} members/s including generation ({loaded.wall:.0f} s); "
        f"{'indexes and foreign keys rebuilt in ' + format(loaded.rebuild_seconds, '.1f') + ' s (counted); ' if loaded.rebuild_seconds else ''}"
        f"VACUUM ANALYZE {loaded.analyze_seconds:.1f} s (not counted)  (load avg {la0:.2f} → {load1():.2f})"
    )

    return url, str(loaded_tree.ids[tree.big]), str(loaded_tree.ids[tree.move_parents[1]])


async def measure(
    args: argparse.Namespace, url: str, big_id: str, upper_id: str, results: dict[str, Any]
) -> None:
    async with RunningApp(url, "nats://127.0.0.1:1", workers=False) as svc:
        timer = StatementTimer(svc.app.state.db.engine)
        cases: list[tuple[str, str, str, dict[str, Any], float]] = [
            ("sector", "whole country", "/v1/stats/sector", dict(PERIOD), 2000),
            (
                "sector",
                "big committee VN.U01.BIG",
                "/v1/stats/sector",
                {**PERIOD, "within": str(big_id)},
                200,
            ),
            (
                "sector",
                "upper committee VN.U02",
                "/v1/stats/sector",
                {**PERIOD, "within": str(upper_id)},
                200,
            ),
            (
                "search",
                f"common name q={COMMON_NAME!r}",
                "/v1/members",
                {"q": COMMON_NAME, "limit": 50},
                50,
            ),
            ("search", f"rare name q={RARE_NAME!r}", "/v1/members", {"q": RARE_NAME, "limit": 50}, 50),
            *(
                ("search", f"q={q!r}", "/v1/members", {"q": q, "limit": 50}, 50)
                for q in (MORE_SEARCHES if args.more_searches else ())
            ),
        ]
        slow: list[tuple[float, str, str, Any]] = []
        for kind, what, path, params, target in cases:
            entry = await timed_get(svc, timer, path, params, args.runs)
            body = entry.pop("body")
            raw = entry.pop("_raw")
            entry["target_ms"] = target
            if kind == "sector":
                entry["members_section"] = body["members"]
                say(
                    f"{kind} {what}: median {entry['ms']:,.1f} ms (min {entry['min_ms']:,.1f}, max {entry['max_ms']:,.1f}; "
                    f"CPU {entry['cpu_ms']:,.1f} ms; SQL {entry['sql_ms']:,.1f} ms in {len(raw)} statements) "
                    f"[target < {target:,.0f} ms: {'MET' if entry['ms'] < target else 'MISSED'}]  (load avg {entry['loadavg_1m']:.2f})"
                )
                say(f"    members: {json.dumps(body['members'], ensure_ascii=False)}")
            else:
                entry["items"] = len(body["items"])
                entry["first"] = [i["full_name"] for i in body["items"][:3]]
                # word starts (services.orgs.members.search), names only
                entry["matches"] = await count_sql(
                    url,
                    "SELECT count(*) FROM members WHERE name_search LIKE $1 OR name_search LIKE $2",
                    f"{params['q']}%",
                    f"% {params['q']}%",
                )
                say(
                    f"{kind} {what}: median {entry['ms']:,.1f} ms (min {entry['min_ms']:,.1f}, max {entry['max_ms']:,.1f}; "
                    f"CPU {entry['cpu_ms']:,.1f} ms; SQL {entry['sql_ms']:,.1f} ms in {len(raw)} statements); "
                    f"{entry['items']} items, {entry['matches']:,} names match; first {entry['first']} "
                    f"[target < {target:,.0f} ms: {'MET' if entry['ms'] < target else 'MISSED'}]  (load avg {entry['loadavg_1m']:.2f})"
                )
            for ms, statement in entry["statements"][:4]:
                say(f"      {ms:>9,.1f} ms  {statement}")
            results.setdefault(kind, {})[what] = entry
            slow.extend((ms, f"{kind} {what}", st, p) for ms, st, p in raw)
    if args.db == "postgresql" and args.plans:
        say(f"\nEXPLAIN (ANALYZE, BUFFERS) of the {args.plans} slowest statements (load avg {load1():.2f})")
        seen: set[str] = set()
        plans = []
        for ms, what, statement, parameters in sorted(slow, key=lambda s: -s[0]):
            if statement in seen:
                continue
            seen.add(statement)
            lines = await explain(url, statement, parameters)
            plans.append(
                {
                    "ms": ms,
                    "what": what,
                    "sql": " ".join(statement.split()),
                    "params": [str(p) for p in parameters or ()],
                    "plan": lines,
                }
            )
            say(
                f"\n--- {what}: {ms:,.1f} ms in the request\n{' '.join(statement.split())}\n  params {[str(p) for p in parameters or ()]}"
            )
            for line in lines:
                say("  " + line)
            if len(plans) >= args.plans:
                break
        results["plans"] = plans


def main() -> None:
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
    parser.add_argument("--chunk", type=int, default=50_000, help="members per load transaction")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per request (after one warm-up)")
    parser.add_argument(
        "--plans", type=int, default=4, help="EXPLAIN ANALYZE this many slowest statements (PG)"
    )
    parser.add_argument(
        "--keep-indexes", action="store_true", help="PostgreSQL: COPY into the indexed tables"
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    parser.add_argument(
        "--more-searches", action="store_true", help=f"also time q= {', '.join(MORE_SEARCHES)}"
    )
    parser.add_argument("--json", help="also write the figures as JSON here")
    parser.add_argument(
        "--reuse",
        metavar="DBNAME",
        help="PostgreSQL: measure this existing database (same --scale/--seed; upgraded to head), no load",
    )
    args = parser.parse_args()
    args.created = []
    results = asyncio.run(run(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
