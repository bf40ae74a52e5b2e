"""Bench loader: writes bench/generate_training.py's data into a migrated training database.

Through training's own tables (their column sets are checked against the generator's first): the organization
projection, the projected posts, cadres, assignments and plans, the catalogue and the enrollments; then each
course's ``enrolled`` is set from the enrollments that hold a seat. PostgreSQL: binary ``COPY`` per batch (the
next batch is generated in a thread meanwhile), the ``org_projection.node`` serial moved past the explicit
numbers, then ``VACUUM ANALYZE`` (what autovacuum does soon after a bulk load; also sets the visibility map so
index-only scans stay index-only). SQLite: executemany in one transaction per batch. It skips the outbox and
the inbox (no events).

    .venv/bin/python bench/load_training.py --scale 0.05 --url sqlite+aiosqlite:///bench/out/training.db
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

import generate_cadres as gc  # noqa: E402
import generate_training as gt  # noqa: E402
from load_cadres import asyncpg_dsn  # noqa: E402
from sqlalchemy import Table, insert, text  # noqa: E402

from services.training.courses.models import Course  # noqa: E402
from services.training.enrollments.models import Enrollment  # noqa: E402
from services.training.programmes.models import Programme  # noqa: E402
from services.training.projections.models import (  # noqa: E402
    ProjectedAssignment,
    ProjectedCadre,
    ProjectedPlan,
    ProjectedPost,
)
from shared.db import Database  # noqa: E402
from shared.orgtree.models import ProjectedOrganization  # noqa: E402

TABLES: dict[str, tuple[Table, tuple[str, ...]]] = {
    "org_projection": (ProjectedOrganization.__table__, gc.ORG_COLUMNS),
    "post_projection": (ProjectedPost.__table__, gt.POST_COLUMNS),
    "programmes": (Programme.__table__, gt.PROGRAMME_COLUMNS),
    "courses": (Course.__table__, gt.COURSE_COLUMNS),
    "cadre_projection": (ProjectedCadre.__table__, gt.CADRE_COLUMNS),
    "assignment_projection": (ProjectedAssignment.__table__, gt.ASSIGNMENT_COLUMNS),
    "plan_projection": (ProjectedPlan.__table__, gt.PLAN_COLUMNS),
    "enrollments": (Enrollment.__table__, gt.ENROLLMENT_COLUMNS),
}  # fmt: skip
JSON_COLUMNS = {"enrollments": gt.ENROLLMENT_COLUMNS.index("findings")}
SEATS_TAKEN = """
UPDATE courses SET enrolled = taken.n, capacity = CASE WHEN capacity < taken.n THEN taken.n ELSE capacity END
FROM (SELECT course_id, count(*) AS n FROM enrollments WHERE status <> 'withdrawn' GROUP BY course_id) AS taken
WHERE courses.id = taken.course_id
"""


def check_columns() -> None:
    """The generator writes every column of each table, by name: a model change fails here, not mid-load."""
    for name, (table, columns) in TABLES.items():
        if set(table.columns.keys()) != set(columns):
            raise SystemExit(
                f"{name}: the model has {sorted(set(table.columns.keys()) - set(columns))} that the generator "
                f"lacks and the generator has {sorted(set(columns) - set(table.columns.keys()))} that the "
                "model lacks — update bench/generate_training.py"
            )


@dataclass
class Loaded:
    counts: dict[str, int]
    seconds: float  # database time
    wall: float
    finish_seconds: float = 0.0  # seats taken + VACUUM ANALYZE

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _pg_records(name: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    i = JSON_COLUMNS.get(name)
    if i is None:
        return rows
    return [r[:i] + (json.dumps(r[i]),) + r[i + 1 :] for r in rows]


def _progress(counts: dict[str, int], seconds: float, started: float, total: int) -> None:
    rows = sum(counts.values())
    print(
        f"\r  {counts.get('cadre_projection', 0):>7}/{total} cadres, {counts.get('enrollments', 0):>9,} "
        f"enrollments, {rows:>9,} rows, {rows / seconds if seconds else 0:,.0f} rows/s (db), "
        f"wall {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.2f}   ",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _batch_tables(batch: gt.Batch) -> list[tuple[str, list[tuple[Any, ...]]]]:
    return [
        ("cadre_projection", batch.cadres),
        ("assignment_projection", batch.assignments),
        ("plan_projection", batch.plans),
        ("enrollments", batch.enrollments),
    ]


def _fixed(data: gt.TrainingData) -> list[tuple[str, list[tuple[Any, ...]]]]:
    return [
        ("org_projection", data.orgs),
        ("post_projection", data.posts),
        ("programmes", data.programmes),
        ("courses", data.courses),
    ]


async def load(url: str, data: gt.TrainingData, *, progress: bool = True) -> Loaded:
    check_columns()
    counts: dict[str, int] = {}
    started = time.perf_counter()
    db_seconds = 0.0
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

            db_seconds += await write(_fixed(data))
            for batch in data.batches():
                db_seconds += await write(_batch_tables(batch))
                if progress:
                    _progress(counts, db_seconds, started, data.n_cadres)
            wall = time.perf_counter() - started
            t0 = time.perf_counter()
            async with db.transaction() as session:
                await session.execute(text(SEATS_TAKEN))
            async with db.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
            finish = time.perf_counter() - t0
        finally:
            await db.dispose()
        if progress:
            print(file=sys.stderr)
        return Loaded(counts, db_seconds, wall, finish)

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

        db_seconds += await copy(_fixed(data))
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
        wall = time.perf_counter() - started
        t0 = time.perf_counter()
        await conn.execute(SEATS_TAKEN)
        await conn.execute("VACUUM ANALYZE")
        finish = time.perf_counter() - t0
    finally:
        await conn.close()
    if progress:
        print(file=sys.stderr)
    return Loaded(counts, db_seconds, wall, finish)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", required=True, help="a training database, already migrated")
    args = parser.parse_args()
    loaded = asyncio.run(load(args.url, gt.build(scale=args.scale, seed=args.seed)))
    print(json.dumps({"counts": loaded.counts, "rows_per_s": round(loaded.rows_per_second),
                      "db_seconds": round(loaded.seconds, 1), "wall_seconds": round(loaded.wall, 1),
                      "finish_seconds": round(loaded.finish_seconds, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
