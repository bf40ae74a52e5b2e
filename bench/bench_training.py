"""Training at national scale: load rate, the sector report's training section, and training needs.

1. generate (bench/generate_training.py) and load (bench/load_training.py) into a freshly migrated training
   database: ~300,000 cadres with their posts, assignments and plans as projected from cadres' events, and
   ~1,500,000 enrollments at ``--scale 1``;
2. through the real app in-process (``create_app(settings, run_workers=False)``, asgi-lifespan, httpx
   ``ASGITransport``, an admin token minted with the data dir's dev key), median of ``--runs`` after one
   warm-up, for the whole country and for one upper committee (``--committee``):
   - ``GET /v1/stats/sector?from=2021-01-01&to=2022-12-31`` (the training section);
   - ``GET /v1/training-needs?as_of=2025-06-30`` — one page of the default size (50) and one of 500 — and
     the number of cadres in need of the committee, by walking its pages;
3. the SQL each sends (wall time per statement) and, on PostgreSQL, EXPLAIN (ANALYZE, BUFFERS) of it.

Targets (issue 5, PostgreSQL): each under 1 s for the country and under 200 ms for one committee.

    .venv/bin/python bench/bench_training.py --db sqlite --scale 0.05
    .venv/bin/python bench/bench_training.py --db postgresql --scale 1 --json bench/out/training-pg-1.0.json
    .venv/bin/python bench/bench_training.py --db postgresql --reuse tochuc_bench_training_NNN --explain

``--keep`` keeps the loaded PostgreSQL database; ``--reuse NAME`` measures it again (after code or migration
changes: it is upgraded to head) without the ~8 minutes of generation and loading.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
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

from bench_cadres import (  # noqa: E402
    DEFAULT_PG,
    ORG_PATH,
    StatementLog,
    asyncpg_url,
    drop_database,
    fresh_database,
    load1,
    say,
)

FROM, TO = dt.date(2021, 1, 1), dt.date(2022, 12, 31)
NEEDS_DAY = dt.date(2025, 6, 30)


async def explain(url: str, statements: list[tuple[float, str, Any]], lines: int) -> list[dict[str, Any]]:
    import asyncpg
    from load_training import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    plans = []
    try:
        for _, statement, params in statements:
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *(params or ()))
            plans.append({"sql": " ".join(statement.split()), "plan": [r[0] for r in rows]})
    finally:
        await conn.close()
    for plan in plans:
        say(f"  EXPLAIN {plan['sql'][:160]}…")
        for line in plan["plan"][:lines]:
            say(f"    {line}")
    return plans


async def reused_database(args: argparse.Namespace) -> tuple[str, Any, str, int]:
    """``--reuse``: an existing database (PostgreSQL: its name; SQLite: its file), brought to the head
    revision, and the committee found in its organization projection."""
    from sqlalchemy import func, select, table
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.migrations import upgrade
    from shared.orgtree.models import ProjectedOrganization as Org
    from shared.settings import sqlite_url
    from shared.tree import in_subtree

    url = asyncpg_url(args.pg_url, args.reuse) if args.db == "postgresql" else sqlite_url(Path(args.reuse))
    applied = await asyncio.to_thread(upgrade, "training", url)
    say(f"reusing {args.reuse} (not generated, not loaded); migrations applied: {[s.doc for s in applied]}")
    if applied and args.db == "postgresql":
        # as after a load: a migration that rewrote rows leaves dead versions (and no visibility map) that
        # autovacuum would clear later; measure what a settled database gives
        import asyncpg
        from load_training import asyncpg_dsn

        t0 = time.perf_counter()
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        say(f"VACUUM ANALYZE after the migrations: {time.perf_counter() - t0:.1f} s  [{load1()}]")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(Org.id, Org.path).where(Org.code == args.committee))).one()
            sub_orgs = await conn.scalar(select(func.count()).where(in_subtree(Org.path, row.path)))
            names = ("org_projection", "post_projection", "cadre_projection", "assignment_projection",
                     "plan_projection", "enrollments")  # fmt: skip
            counts = {n: await conn.scalar(select(func.count()).select_from(table(n))) for n in names}
    finally:
        await engine.dispose()
    say(f"counts {counts}")
    args.counts = counts
    return url, row.id, row.path, int(sub_orgs or 0)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from asgi_lifespan import LifespanManager
    from generate_training import build
    from load_training import load

    from services.training.app import create_app
    from shared.auth import load_or_create_dev_key, mint_token
    from shared.settings import ServiceSettings

    result: dict[str, Any] = {
        "db": args.db,
        "scale": args.scale,
        "seed": args.seed,
        "date": dt.date.today().isoformat(),
        "reused": args.reuse,
    }
    if args.reuse:
        url, committee_id, committee_path, sub_orgs = await reused_database(args)
        result["counts"] = args.counts
    else:
        url = await fresh_database(args, "training")
        t0 = time.perf_counter()
        data = build(scale=args.scale, seed=args.seed)
        say(f"built projection/catalogue in {time.perf_counter() - t0:.1f} s ({len(data.orgs):,} orgs, "
            f"{len(data.posts):,} posts, {len(data.courses):,} courses, {data.n_cadres:,} cadres to come)  [{load1()}]")  # fmt: skip
        loaded = await load(url, data)
        result["load"] = {
            "counts": loaded.counts, "rows": loaded.rows, "db_seconds": round(loaded.seconds, 1),
            "wall_seconds": round(loaded.wall, 1), "rows_per_s": round(loaded.rows_per_second),
            "finish_seconds": round(loaded.finish_seconds, 1), "loadavg": os.getloadavg()[0],
        }  # fmt: skip
        say(f"LOAD {loaded.counts}")
        say(f"LOAD {loaded.rows:,} rows: {loaded.seconds:.1f} s db ({loaded.rows_per_second:,.0f} rows/s), "
            f"{loaded.wall:.1f} s wall incl. generation; seats + (VACUUM) ANALYZE {loaded.finish_seconds:.1f} s  [{load1()}]")  # fmt: skip

        committee_index = next(n.index for n in data.cadres.tree.nodes if n.code == args.committee)
        committee_id = data.cadres.org_ids[committee_index]
        committee_path = data.orgs[committee_index][ORG_PATH]
        sub_orgs = sum(1 for o in data.orgs if o[ORG_PATH].startswith(committee_path))
    say(f"committee {args.committee} ({committee_id}): {sub_orgs:,} organizations in its subtree")

    data_dir = OUT / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TOCHUC_DATA_DIR"] = str(data_dir)
    settings = ServiceSettings.load(
        "training", env="test", data_dir=data_dir, database_url=url, nats_url="nats://127.0.0.1:1"
    )
    key = load_or_create_dev_key(settings.dev_key_path)
    token = mint_token(key, sub="bench", roles=["admin"], ttl=6 * 3600, issuer=settings.jwt_issuer,
                       audience=settings.jwt_audience)  # fmt: skip
    app = create_app(settings, run_workers=False)
    figures: dict[str, Any] = {}
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        db = app.state.db
        log = StatementLog(db.engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://training",
            headers={"Authorization": f"Bearer {token}"}, timeout=600,
        ) as client:  # fmt: skip

            async def timed(label: str, path: str, params: dict[str, str]) -> dict[str, Any]:
                wall, cpu, body, statements = [], [], None, []
                for i in range(args.runs + 1):
                    log.records, log.on = [], True
                    c0, w0 = time.process_time(), time.perf_counter()
                    response = await client.get(path, params=params)
                    w1, c1 = time.perf_counter(), time.process_time()
                    log.on = False
                    response.raise_for_status()
                    if i == 0:
                        body = response.json()
                        continue
                    wall.append((w1 - w0) * 1000)
                    cpu.append((c1 - c0) * 1000)
                    statements = log.records
                figure = {
                    "ms": statistics.median(wall), "min_ms": min(wall), "max_ms": max(wall),
                    "cpu_ms": statistics.median(cpu), "loadavg": os.getloadavg()[0],
                    "statements_ms": [round(s[0], 1) for s in statements],
                }  # fmt: skip
                say(f"{label}: median {statistics.median(wall):,.0f} ms (min {min(wall):,.0f}, max {max(wall):,.0f}; "
                    f"CPU {statistics.median(cpu):,.0f} ms) over {args.runs}; SQL {figure['statements_ms']} ms  [{load1()}]")  # fmt: skip
                if args.db == "postgresql" and args.explain:
                    slow = sorted(statements, key=lambda s: -s[0])[:2]
                    figure["explain"] = await explain(url, slow, args.plan_lines)
                figure["body"] = body
                return figure

            for scope, within in (("country", None), ("committee", str(committee_id))):
                params = {"from": FROM.isoformat(), "to": TO.isoformat()}
                if within:
                    params["within"] = within
                figure = await timed(f"SECTOR {scope}", "/v1/stats/sector", params)
                say(f"   training: {json.dumps(figure['body']['training'], ensure_ascii=False)}")
                figures[f"sector_{scope}"] = figure
                for limit in (50, 500):
                    params = {"as_of": NEEDS_DAY.isoformat(), "limit": str(limit)}
                    if within:
                        params["within"] = within
                    figure = await timed(f"NEEDS {scope} limit {limit}", "/v1/training-needs", params)
                    items = figure.pop("body")["items"]
                    figure["items"] = len(items)
                    figures[f"needs_{scope}_{limit}"] = figure

            # every cadre in need in the committee, page by page (what a report of needs would read)
            pages, cadres, cursor, w0 = 0, 0, None, time.perf_counter()
            while True:
                params = {"as_of": NEEDS_DAY.isoformat(), "limit": "500", "within": str(committee_id)}
                if cursor:
                    params["cursor"] = cursor
                body = (await client.get("/v1/training-needs", params=params)).json()
                pages, cadres, cursor = pages + 1, cadres + len(body["items"]), body["next_cursor"]
                if not cursor:
                    break
            walk = (time.perf_counter() - w0) * 1000
            figures["needs_committee_walk"] = {"cadres": cadres, "pages": pages, "ms": walk}
            say(
                f"NEEDS committee, all pages: {cadres:,} cadres in {pages} pages, {walk:,.0f} ms  [{load1()}]"
            )
    result["figures"] = figures
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--committee", default="VN.U02", help="the upper committee of the scoped figures")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--explain", action="store_true", help="PostgreSQL: EXPLAIN ANALYZE the slowest SQL")
    parser.add_argument("--plan-lines", type=int, default=40)
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
        f"training bench: {args.db}, {f'reused database {args.reuse}' if args.reuse else f'scale {args.scale}, seed {args.seed}'}, {dt.datetime.now():%Y-%m-%d %H:%M}  [{load1()}]"
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
