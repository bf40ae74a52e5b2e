"""Cadres at national scale: load rate, the sector report (personnel section), and the ``:check`` latency.

1. generate (bench/generate_cadres.py) and load (bench/load_cadres.py) into a freshly migrated cadres database;
2. through the real app in-process (``create_app(settings, run_workers=False)``, asgi-lifespan, httpx
   ``ASGITransport``, an admin+personnel token minted with the data dir's dev key): median of ``--runs`` after
   one warm-up of ``GET /v1/stats/sector?from=2021-01-01&to=2022-12-31`` for the whole country and for one
   upper committee (``--committee``); the personnel section alone by timing
   ``services.cadres.stats.service.personnel(...)`` directly (own session), with the SQL it sends;
3. ``POST /v1/personnel-actions:check`` p50/p99 over ``--checks`` calls: an appointment of a random active cadre
   to a random post, effective 2025-06-02 (after every generated change), a dry run;
4. PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of the personnel statements (country and committee).

Figures are printed with the 1-minute load average (the machine is shared).

    .venv/bin/python bench/bench_cadres.py --db sqlite --scale 0.05
    .venv/bin/python bench/bench_cadres.py --db postgresql --scale 1 --json bench/out/cadres-pg-1.0.json
    .venv/bin/python bench/bench_cadres.py --db postgresql --reuse tochuc_bench_cadres_NNN --runs 5

``--keep`` keeps the loaded PostgreSQL database; ``--reuse NAME`` measures it again (after code or migration
changes: it is upgraded to the head revision first) without the minutes of generation and loading. The posts
of the ``:check`` calls are drawn from the database's posts (by id) in both cases, so the two agree.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
for p in (str(ROOT), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

DEFAULT_PG = os.environ.get("TOCHUC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FROM, TO = dt.date(2021, 1, 1), dt.date(2022, 12, 31)
CHECK_DAY = dt.date(2025, 6, 2)


def load1() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def say(line: str = "") -> None:
    print(line, flush=True)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def asyncpg_url(admin_url: str, database: str) -> str:
    return f"postgresql+asyncpg://{admin_url.split('://', 1)[1].rsplit('/', 1)[0]}/{database}"


async def fresh_database(args: argparse.Namespace, service: str = "cadres") -> str:
    """A freshly migrated database of ``service`` (bench_training uses it too)."""
    from shared.migrations import upgrade
    from shared.settings import sqlite_url

    if args.db == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{service}-bench-{args.scale}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(path)
    else:
        import asyncpg

        name = f"tochuc_bench_{service}_{os.getpid()}"
        conn = await asyncpg.connect(args.pg_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        args.created = name
        url = asyncpg_url(args.pg_url, name)
    await asyncio.to_thread(upgrade, service, url)
    return url


async def drop_database(args: argparse.Namespace) -> None:
    import asyncpg

    conn = await asyncpg.connect(args.pg_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{args.created}" WITH (FORCE)')
    finally:
        await conn.close()


class StatementLog:
    """Statements the engine sends while on, with their wall time and parameters."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.records: list[tuple[float, str, Any]] = []
        self.on = False

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if self.on:
                self.records.append(
                    ((time.perf_counter() - conn.info.pop("t0")) * 1000, statement, parameters)
                )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from asgi_lifespan import LifespanManager
    from generate_cadres import build
    from load_cadres import asyncpg_dsn, load

    from services.cadres.app import create_app
    from services.cadres.stats.service import personnel
    from shared.auth import load_or_create_dev_key, mint_token
    from shared.db import Database
    from shared.settings import ServiceSettings

    result: dict[str, Any] = {
        "db": args.db,
        "scale": args.scale,
        "seed": args.seed,
        "date": dt.date.today().isoformat(),
    }
    if args.reuse:
        url, committee_id, committee_path, sub_orgs = await reused_database(args)
        result["reused"], result["counts"] = args.reuse, args.counts
    else:
        url = await fresh_database(args)
        t0 = time.perf_counter()
        data = build(scale=args.scale, seed=args.seed)
        say(f"built projection/posts/payroll in {time.perf_counter() - t0:.1f} s "
            f"({len(data.orgs):,} orgs, {len(data.posts):,} posts, {data.n_cadres:,} cadres to come)  [{load1()}]")  # fmt: skip
        loaded = await load(url, data)
        result["load"] = {
            "counts": loaded.counts, "rows": loaded.rows, "db_seconds": round(loaded.seconds, 1),
            "wall_seconds": round(loaded.wall, 1), "rows_per_s": round(loaded.rows_per_second),
            "analyze_seconds": round(loaded.analyze_seconds, 1), "loadavg": os.getloadavg()[0],
        }  # fmt: skip
        say(f"LOAD {loaded.counts}")
        say(f"LOAD {loaded.rows:,} rows: {loaded.seconds:.1f} s db ({loaded.rows_per_second:,.0f} rows/s), "
            f"{loaded.wall:.1f} s wall incl. generation, (VACUUM) ANALYZE {loaded.analyze_seconds:.1f} s  [{load1()}]")  # fmt: skip

        committee_index = next(n.index for n in data.tree.nodes if n.code == args.committee)
        committee_id = data.org_ids[committee_index]
        committee_path = data.orgs[committee_index][ORG_PATH]
        sub_orgs = sum(1 for o in data.orgs if o[ORG_PATH].startswith(committee_path))
        del data
    say(f"committee {args.committee} ({committee_id}): {sub_orgs:,} organizations in its subtree")

    data_dir = OUT / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TOCHUC_DATA_DIR"] = str(data_dir)
    settings = ServiceSettings.load(
        "cadres", env="test", data_dir=data_dir, database_url=url, nats_url="nats://127.0.0.1:1"
    )
    key = load_or_create_dev_key(settings.dev_key_path)
    token = mint_token(key, sub="bench", roles=["admin", "personnel"], ttl=6 * 3600,
                       issuer=settings.jwt_issuer, audience=settings.jwt_audience)  # fmt: skip
    app = create_app(settings, run_workers=False)
    figures: dict[str, Any] = {}
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://cadres",
            headers={"Authorization": f"Bearer {token}"}, timeout=600,
        ) as client:  # fmt: skip
            # ---- sector report through HTTP
            for label, params in (
                ("country", {"from": FROM.isoformat(), "to": TO.isoformat()}),
                ("committee", {"from": FROM.isoformat(), "to": TO.isoformat(), "within": str(committee_id)}),
            ):
                wall, cpu, body = [], [], None
                for i in range(args.runs + 1):
                    c0, w0 = time.process_time(), time.perf_counter()
                    response = await client.get("/v1/stats/sector", params=params)
                    w1, c1 = time.perf_counter(), time.process_time()
                    response.raise_for_status()
                    if i == 0:
                        body = response.json()
                        continue
                    wall.append((w1 - w0) * 1000)
                    cpu.append((c1 - c0) * 1000)
                figures[f"sector_{label}"] = {
                    "ms": statistics.median(wall), "min_ms": min(wall), "max_ms": max(wall),
                    "cpu_ms": statistics.median(cpu), "loadavg": os.getloadavg()[0], "body": body,
                }  # fmt: skip
                p = body["personnel"] if body else {}
                say(f"SECTOR {label}: median {statistics.median(wall):,.0f} ms (min {min(wall):,.0f}, "
                    f"max {max(wall):,.0f}; CPU {statistics.median(cpu):,.0f} ms) over {args.runs}  [{load1()}]")  # fmt: skip
                say(f"   personnel: {sum(p['actions_by_kind'].values()):,} actions, moved/appointed "
                    f"{p['cadres_moved_or_appointed']:,}; planning {body['planning']}")  # fmt: skip

            if args.profile:  # where the country report's time goes (one request, cProfile, app process)
                import cProfile
                import io
                import pstats

                prof = cProfile.Profile()
                prof.enable()
                await client.get("/v1/stats/sector", params={"from": FROM.isoformat(), "to": TO.isoformat()})
                prof.disable()
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(
                    r"services/cadres|shared/|asyncpg|sqlalchemy/engine/result", 30
                )
                say(buf.getvalue())

            # ---- :check latency
            if args.checks > 0:  # --checks 0: the sector report alone
                rng = random.Random(args.seed)
                active, post_ids = await active_cadres_and_posts(url, rng, args.checks)
                lat, statuses = [], {}
                for i in range(args.checks + 10):
                    post_id = post_ids[rng.randrange(len(post_ids))]
                    payload = {
                        "kind": "appointment", "cadre_id": str(active[i % len(active)]), "post_id": str(post_id),
                        "decision_no": f"{i}-QĐ/TU", "decided_on": "2025-05-26", "effective_on": CHECK_DAY.isoformat(),
                    }  # fmt: skip
                    w0 = time.perf_counter()
                    response = await client.post("/v1/personnel-actions:check", json=payload)
                    w1 = time.perf_counter()
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if i >= 10:  # the first ten are the warm-up
                        lat.append((w1 - w0) * 1000)
                if 200 not in statuses:
                    say(f"  :check answered {statuses}: {response.text[:300]}")
                figures["check"] = {
                    "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99), "max_ms": max(lat),
                    "calls": len(lat), "statuses": statuses, "loadavg": os.getloadavg()[0],
                }  # fmt: skip
                say(f"CHECK {len(lat)} calls: p50 {pct(lat, 50):.1f} ms, p90 {pct(lat, 90):.1f} ms, "
                    f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms; statuses {statuses}  [{load1()}]")  # fmt: skip

    # ---- the personnel section alone
    db = Database(url)
    log = StatementLog(db.engine)
    try:
        for label, subtree in (("country", None), ("committee", committee_path)):
            times, statements = [], []
            for i in range(args.runs + 1):
                async with db.session() as session:
                    log.records, log.on = [], True
                    w0 = time.perf_counter()
                    section = await personnel(session, start=FROM, end=TO, subtree=subtree)
                    w1 = time.perf_counter()
                    log.on = False
                    statements = log.records
                if i:
                    times.append((w1 - w0) * 1000)
            figures[f"personnel_{label}"] = {
                "ms": statistics.median(times), "min_ms": min(times), "loadavg": os.getloadavg()[0],
                "statements_ms": [round(s[0], 1) for s in statements], "actions": sum(section["actions_by_kind"].values()),
            }  # fmt: skip
            say(f"PERSONNEL {label}: median {statistics.median(times):,.0f} ms (min {min(times):,.0f}); "
                f"statements {[round(s[0]) for s in statements]} ms  [{load1()}]")  # fmt: skip
            if args.db == "postgresql":
                import asyncpg

                conn = await asyncpg.connect(asyncpg_dsn(url))
                try:
                    plans = []
                    for _, statement, params in statements:
                        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *(params or ()))
                        plans.append({"sql": " ".join(statement.split()), "params": [str(x) for x in params or ()],
                                      "plan": [r[0] for r in rows]})  # fmt: skip
                finally:
                    await conn.close()
                figures[f"personnel_{label}"]["explain"] = plans
                for plan in plans:
                    say(f"  EXPLAIN {plan['sql'][:160]}…")
                    for line in plan["plan"][: args.plan_lines]:
                        say(f"    {line}")
    finally:
        await db.dispose()
    result["figures"] = figures
    return result


ORG_PATH = 8  # index of "path" in ORG_COLUMNS


async def active_cadres_and_posts(url: str, rng: random.Random, n: int) -> tuple[list[Any], list[Any]]:
    """``n`` active cadres drawn at random, and every post id (by id) to draw the posts from."""
    from sqlalchemy import select

    from services.cadres.cadres.models import Cadre
    from services.cadres.posts.models import Post
    from shared.db import Database

    db = Database(url)
    try:
        async with db.session() as session:
            ids = list((await session.execute(select(Cadre.id).where(Cadre.status == "active"))).scalars())
            posts = list((await session.execute(select(Post.id).order_by(Post.id))).scalars())
    finally:
        await db.dispose()
    ids.sort()
    return rng.sample(ids, min(n, len(ids))), posts


async def reused_database(args: argparse.Namespace) -> tuple[str, Any, str, int]:
    """``--reuse``: an existing database (PostgreSQL: its name on ``--pg-url``; SQLite: its file), brought to
    the head revision, and the committee found in its organization projection."""
    from sqlalchemy import func, select, table
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.migrations import upgrade
    from shared.orgtree.models import ProjectedOrganization as Org
    from shared.settings import sqlite_url
    from shared.tree import in_subtree

    url = asyncpg_url(args.pg_url, args.reuse) if args.db == "postgresql" else sqlite_url(Path(args.reuse))
    applied = await asyncio.to_thread(upgrade, "cadres", url)
    say(f"reusing {args.reuse} (not generated, not loaded); migrations applied: {[s.doc for s in applied]}")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(Org.id, Org.path).where(Org.code == args.committee))).one()
            sub_orgs = await conn.scalar(select(func.count()).where(in_subtree(Org.path, row.path)))
            names = ("org_projection", "posts", "cadres", "personnel_actions", "assignments", "plans",
                     "payroll_entries")  # fmt: skip
            counts = {n: await conn.scalar(select(func.count()).select_from(table(n))) for n in names}
    finally:
        await engine.dispose()
    say(f"counts {counts}")
    args.counts = counts
    return url, row.id, row.path, int(sub_orgs or 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--committee", default="VN.U02", help="the upper committee of the scoped report")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--plan-lines", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="cProfile one country report request")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep the database")
    parser.add_argument(
        "--reuse",
        metavar="DBNAME",
        help="measure this existing database (PostgreSQL: a name on --pg-url; SQLite: a file) as it is, "
        "without generating or loading (it is upgraded to the head revision first)",
    )
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    args.created = None
    say(
        f"cadres bench: {args.db}, {f'reused database {args.reuse}' if args.reuse else f'scale {args.scale}, seed {args.seed}'}, {dt.datetime.now():%Y-%m-%d %H:%M}  [{load1()}]"
    )

    async def main_async() -> dict[str, Any]:
        try:
            return await run(args)
        finally:
            if args.created and not args.keep:
                await drop_database(args)
            elif args.created:
                say(f"kept database {args.created}")

    result = asyncio.run(main_async())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        say(f"wrote {args.json}")


if __name__ == "__main__":
    main()
