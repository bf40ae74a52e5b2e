"""Write generated cadres data (bench/generate_cadres.py) straight into a migrated cadres database (bench loader).

The database must be migrated with ``shared.migrations.upgrade("cadres", url)`` and empty. Tables written, as the
service stores them: ``org_projection`` (what orgs' events would have built), ``posts``, ``payroll_entries``, then
per batch of 20,000 cadres ``cadres``, ``personnel_actions``, ``assignments``, ``plans``.

* PostgreSQL: asyncpg ``copy_records_to_table`` (binary COPY), one transaction per batch, into the tables as
  migrated (indexes kept); the next batch is generated in a thread meanwhile. Afterwards the serials of
  ``org_projection.node`` and ``payroll_entries.id`` are moved past the explicit values and the database is
  ``VACUUM ANALYZE``d, as autovacuum would soon do (not counted in the load time; it also sets the visibility
  map, so index-only scans stay index-only).
* SQLite: executemany through the service's SQLAlchemy tables, one transaction per batch.

**No history (``cadre_changes``) and no outbox rows are written**: it is a bench loader.

    .venv/bin/python bench/load_cadres.py --scale 0.05 --url sqlite+aiosqlite:////abs/path/cadres.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

from generate_cadres import (  # noqa: E402
    ACTION_COLUMNS,
    ASSIGNMENT_COLUMNS,
    CADRE_COLUMNS,
    ORG_COLUMNS,
    PAYROLL_COLUMNS,
    PLAN_COLUMNS,
    POST_COLUMNS,
    Batch,
    Data,
    build,
)
from sqlalchemy import insert  # noqa: E402

from services.cadres.assignments.models import Assignment  # noqa: E402
from services.cadres.cadres.models import Cadre  # noqa: E402
from services.cadres.payroll.models import PayrollEntry  # noqa: E402
from services.cadres.personnel.models import PersonnelAction  # noqa: E402
from services.cadres.planning.models import Plan  # noqa: E402
from services.cadres.posts.models import Post  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.orgtree.models import ProjectedOrganization  # noqa: E402

TABLES = {
    "org_projection": (ProjectedOrganization.__table__, ORG_COLUMNS),
    "posts": (Post.__table__, POST_COLUMNS),
    "payroll_entries": (PayrollEntry.__table__, PAYROLL_COLUMNS),
    "cadres": (Cadre.__table__, CADRE_COLUMNS),
    "personnel_actions": (PersonnelAction.__table__, ACTION_COLUMNS),
    "assignments": (Assignment.__table__, ASSIGNMENT_COLUMNS),
    "plans": (Plan.__table__, PLAN_COLUMNS),
}
JSON_COLUMNS = {
    "personnel_actions": ACTION_COLUMNS.index("findings"),
    "plans": PLAN_COLUMNS.index("findings"),
}


@dataclass
class Loaded:
    counts: dict[str, int]
    seconds: float  # database time: COPY / executemany and commits
    wall: float  # including generating the batches (overlapped on PostgreSQL)
    analyze_seconds: float = 0.0  # VACUUM ANALYZE (PostgreSQL)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def _pg_records(name: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """asyncpg's binary COPY takes json as text."""
    i = JSON_COLUMNS.get(name)
    if i is None:
        return rows
    return [r[:i] + (json.dumps(r[i]),) + r[i + 1 :] for r in rows]


def _progress(counts: dict[str, int], seconds: float, started: float, total_cadres: int) -> None:
    rows = sum(counts.values())
    print(
        f"\r  {counts.get('cadres', 0):>7}/{total_cadres} cadres, {rows:>9,} rows, "
        f"{rows / seconds if seconds else 0:,.0f} rows/s (db), wall {time.perf_counter() - started:.0f} s, "
        f"load {os.getloadavg()[0]:.2f}   ",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _batch_tables(batch: Batch) -> list[tuple[str, list[tuple[Any, ...]]]]:
    return [
        ("cadres", batch.cadres),
        ("personnel_actions", batch.actions),
        ("assignments", batch.assignments),
        ("plans", batch.plans),
    ]


async def load(url: str, data: Data, *, progress: bool = True) -> Loaded:
    counts: dict[str, int] = {}
    started = time.perf_counter()
    db_seconds = 0.0
    fixed = [("org_projection", data.orgs), ("posts", data.posts), ("payroll_entries", data.payroll)]
    if url.startswith("sqlite"):
        db = Database(url)
        try:

            async def write(tables: list[tuple[str, list[tuple[Any, ...]]]]) -> float:
                t0 = time.perf_counter()
                async with db.transaction() as session:
                    for name, rows in tables:
                        table, columns = TABLES[name]
                        for i in range(0, len(rows), 10_000):
                            chunk = [dict(zip(columns, r, strict=True)) for r in rows[i : i + 10_000]]
                            if chunk:
                                await session.execute(insert(table), chunk)
                        counts[name] = counts.get(name, 0) + len(rows)
                return time.perf_counter() - t0

            db_seconds += await write(fixed)
            for batch in data.batches():
                db_seconds += await write(_batch_tables(batch))
                if progress:
                    _progress(counts, db_seconds, started, data.n_cadres)
        finally:
            await db.dispose()
        if progress:
            print(file=sys.stderr)
        return Loaded(counts, db_seconds, time.perf_counter() - started)

    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:

        async def copy(tables: list[tuple[str, list[tuple[Any, ...]]]]) -> float:
            records = [(name, _pg_records(name, rows)) for name, rows in tables]  # not timed
            t0 = time.perf_counter()
            async with conn.transaction():
                for name, rows in records:
                    if rows:
                        await conn.copy_records_to_table(name, records=rows, columns=list(TABLES[name][1]))
                    counts[name] = counts.get(name, 0) + len(rows)
            return time.perf_counter() - t0

        db_seconds += await copy(fixed)
        numbers = iter(range(data.n_batches))
        pending = (
            asyncio.create_task(asyncio.to_thread(data.batch, next(numbers))) if data.n_batches else None
        )
        while pending is not None:
            batch = await pending
            number = next(numbers, None)
            pending = (
                asyncio.create_task(asyncio.to_thread(data.batch, number)) if number is not None else None
            )
            db_seconds += await copy(_batch_tables(batch))
            if progress:
                _progress(counts, db_seconds, started, data.n_cadres)
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('org_projection', 'node'), (SELECT max(node) FROM org_projection))"
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('payroll_entries', 'id'),"
            " (SELECT coalesce(max(id), 1) FROM payroll_entries))"
        )
        wall = time.perf_counter() - started
        t0 = time.perf_counter()
        # What autovacuum does soon after a bulk load: statistics, and the visibility map, without which an
        # index-only scan (the sector report's covering index) reads the heap page of every entry it returns.
        await conn.execute("VACUUM ANALYZE")
        analyze = time.perf_counter() - t0
    finally:
        await conn.close()
    if progress:
        print(file=sys.stderr)
    return Loaded(counts, db_seconds, wall, analyze)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--url", required=True, help="a migrated, empty cadres database (SQLAlchemy async URL)"
    )
    args = parser.parse_args()
    data = build(scale=args.scale, seed=args.seed)
    loaded = asyncio.run(load(args.url, data))
    print(
        f"loaded {loaded.counts} = {loaded.rows:,} rows in {loaded.seconds:.1f} s db / {loaded.wall:.1f} s wall "
        f"({loaded.rows_per_second:,.0f} rows/s); load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
