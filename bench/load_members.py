"""Bulk-load generated members into an orgs database that already holds the generated tree (bench loader).

Rows are those of bench/generate_members.py: one ``members`` row and the ``member_states`` rows per member,
as the service stores them. Batches are generated in memory first (not timed), then written:

* PostgreSQL: asyncpg ``copy_records_to_table`` (binary COPY) of the batch's members then states, in one
  transaction per batch, while a thread generates the next batch. By default the secondary indexes, unique
  constraints and foreign keys of ``members`` and ``member_states`` are dropped first and recreated from
  their catalog definitions afterwards (the rebuild is counted in the load time); ``--keep-indexes`` loads
  into the tables as migrated (~10,000 members/s here: every row then pays two foreign-key checks and four
  B-tree inserts, two of them at random UUID positions). Afterwards the ``member_states.id`` sequence is
  moved past the explicit ids and the tables are VACUUMed and ANALYZEd (not counted: what autovacuum does
  after a bulk insert). The rows of ``member_counts`` / ``member_day_counts`` (``members.counts``) are
  computed from the generated members in the generating thread and copied with each batch (counted).
* SQLite: executemany through the service's SQLAlchemy tables (so values are encoded as the service encodes
  them), one transaction per batch.

**It writes no history (``member_changes``) and no outbox rows**: it is a bench loader.

    .venv/bin/python bench/load_members.py --scale 0.05 --url sqlite+aiosqlite:///bench/out/x.db --with-tree
    .venv/bin/python bench/load_members.py --scale 1 --url postgresql+asyncpg://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_members import (  # noqa: E402
    MEMBER_COLUMNS,
    NAME_START_COLUMNS,
    STATE_COLUMNS,
    expected_members,
    generate_members,
)
from generate_tree import Tree, generate  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from services.orgs.members.counts import COLUMNS as COUNT_COLUMNS  # noqa: E402
from services.orgs.members.counts import LEFT_REASONS, STATUSES  # noqa: E402
from services.orgs.members.models import (  # noqa: E402
    Member,
    MemberCount,
    MemberDayCount,
    MemberNameStart,
    MemberState,
)
from shared.db import Database  # noqa: E402

M = Member.__table__
S = MemberState.__table__
K = MemberCount.__table__
G = MemberDayCount.__table__
W = MemberNameStart.__table__
ORG_COUNT_COLUMNS = ("org_node", "day", *COUNT_COLUMNS)
DAY_COUNT_COLUMNS = ("day", *COUNT_COLUMNS)
_COL = {c: i for i, c in enumerate(COUNT_COLUMNS)}
_ST = {s: _COL[s] for s in STATUSES}
_LEFT = {r: _COL[f"left_{r}"] for r in LEFT_REASONS}
REBUILD_MEMORY = "1GB"  # this session's maintenance_work_mem and work_mem while rebuilding (PostgreSQL)


class CountRows:
    """The ``member_counts`` / ``member_day_counts`` rows of the generated members, as the service keeps
    them (``services.orgs.members.counts``), computed while generating (not on the database clock).

    Members come organization by organization, so after each batch every organization but the batch's last
    one is complete: its rows (running totals per day of change) are emitted with that batch.
    """

    def __init__(self) -> None:
        self.pending: dict[int, dict[Any, list[int]]] = {}
        self.days: dict[Any, list[int]] = {}
        self.last_node: int | None = None

    def _bump(self, node: int, day: Any, col: int, n: int) -> None:
        per_day = self.pending.setdefault(node, {})
        per_day.setdefault(day, [0] * len(COUNT_COLUMNS))[col] += n
        self.days.setdefault(day, [0] * len(COUNT_COLUMNS))[col] += n

    def add(self, members: list[tuple], states: list[tuple]) -> list[tuple]:
        i_adm_on, i_adm_org = MEMBER_COLUMNS.index("admitted_on"), MEMBER_COLUMNS.index("admitted_org_node")
        for m in members:
            self._bump(m[i_adm_org], m[i_adm_on], _COL["admitted"], 1)
        recognized: set[Any] = set()
        for _id, member_id, valid_from, valid_to, status, left_reason, node, *_ in states:
            if status in _ST:
                self._bump(node, valid_from, _ST[status], 1)
                if valid_to is not None:
                    self._bump(node, valid_to, _ST[status], -1)
                if status == "official" and member_id not in recognized:
                    recognized.add(member_id)
                    self._bump(node, valid_from, _COL["recognized"], 1)
            elif status == "left":
                self._bump(node, valid_from, _LEFT[left_reason], 1)
            self.last_node = node
        return self.flush(keep=self.last_node)

    def flush(self, keep: int | None = None) -> list[tuple]:
        rows: list[tuple] = []
        n_status = len(STATUSES)
        for node in sorted(n for n in self.pending if n != keep):
            totals = [0] * n_status
            for day in sorted(self.pending[node]):
                cols = self.pending[node][day]
                for j in range(n_status):
                    totals[j] += cols[j]
                rows.append((node, day, *totals, *cols[n_status:]))
            del self.pending[node]
        return rows

    def day_rows(self) -> list[tuple]:
        return [(day, *cols) for day, cols in sorted(self.days.items()) if any(cols)]


@dataclass
class LoadedMembers:
    members: int
    states: int
    seconds: float  # database time: the COPY / executemany calls and their commits
    wall: float  # including the generation of the rows
    analyze_seconds: float = 0.0
    # PostgreSQL: rebuilding the deferred indexes and foreign keys (included in ``seconds``)
    rebuild_seconds: float = 0.0

    @property
    def members_per_second(self) -> float:
        return self.members / self.seconds if self.seconds else 0.0

    @property
    def rows_per_second(self) -> float:
        return (self.members + self.states) / self.seconds if self.seconds else 0.0


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def _drop_secondary(conn: Any) -> list[str]:
    """Drop the secondary indexes, unique constraints and foreign keys of members and member_states (and
    the foreign keys pointing at members); return the statements that recreate them exactly (catalog DDL)."""
    tables = ("members", "member_states")
    constraints = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def, c.contype
        FROM pg_constraint c
        WHERE (c.conrelid::regclass::text = ANY($1::text[]) AND c.contype IN ('f', 'u'))
           OR (c.contype = 'f' AND c.confrelid = 'members'::regclass)
        """,
        list(tables),
    )
    indexes = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY($1::text[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        list(tables),
    )
    recreate = []
    for c in sorted(constraints, key=lambda c: c["contype"]):  # f before u: drop foreign keys first
        await conn.execute(f'ALTER TABLE {c["tbl"]} DROP CONSTRAINT "{c["conname"]}"')
    for i in indexes:
        await conn.execute(f"DROP INDEX {i['name']}")
        recreate.append(i["def"])
    for c in sorted(constraints, key=lambda c: c["contype"], reverse=True):  # u (and its index) before f
        recreate.append(f'ALTER TABLE {c["tbl"]} ADD CONSTRAINT "{c["conname"]}" {c["def"]}')
    return recreate


def _progress(done: int, total: int, states: int, db_seconds: float, started: float) -> None:
    print(
        f"\r  members {done:>9,}/~{total:,} ({states:,} states): {done / db_seconds:,.0f} members/s in the "
        f"database, {done / (time.perf_counter() - started):,.0f} members/s with generation",
        end="",
        file=sys.stderr,
        flush=True,
    )


async def load(
    url: str,
    tree: Tree,
    *,
    seed: int = 1,
    chunk: int = 50_000,
    progress: bool = True,
    defer_indexes: bool = True,
) -> LoadedMembers:
    total = expected_members(tree)
    members = states = 0
    db_seconds = 0.0
    analyze = rebuild = 0.0
    started = time.perf_counter()
    if url.startswith("sqlite"):
        db = Database(url)
        try:
            counter = CountRows()
            batches = list(generate_members(tree, seed=seed, chunk=chunk))
            for index, batch in enumerate(batches):
                m_rows = [dict(zip(MEMBER_COLUMNS, m, strict=True)) for m in batch.members]
                s_rows = [dict(zip(STATE_COLUMNS, s, strict=True)) for s in batch.states]
                w_rows = [dict(zip(NAME_START_COLUMNS, w, strict=True)) for w in batch.name_starts]
                count_rows = counter.add(batch.members, batch.states)
                if index == len(batches) - 1:
                    count_rows += counter.flush()
                k_rows = [dict(zip(ORG_COUNT_COLUMNS, r, strict=True)) for r in count_rows]
                t0 = time.perf_counter()
                async with db.transaction() as session:
                    await session.execute(insert(M), m_rows)
                    await session.execute(insert(S), s_rows)
                    if w_rows:
                        await session.execute(insert(W), w_rows)
                    if k_rows:
                        await session.execute(insert(K), k_rows)
                    if index == len(batches) - 1:
                        g_rows = [dict(zip(DAY_COUNT_COLUMNS, r, strict=True)) for r in counter.day_rows()]
                        if g_rows:
                            await session.execute(insert(G), g_rows)
                db_seconds += time.perf_counter() - t0
                members += len(batch.members)
                states += len(batch.states)
                if progress:
                    _progress(members, total, states, db_seconds, started)
            t0 = time.perf_counter()
            async with db.transaction() as session:
                await session.execute(text("ANALYZE"))
            analyze = time.perf_counter() - t0
        finally:
            await db.dispose()
    else:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            deferred = await _drop_secondary(conn) if defer_indexes else []
            queue: asyncio.Queue = asyncio.Queue(maxsize=2)
            loop = asyncio.get_running_loop()

            counter = CountRows()

            def produce() -> None:
                # Generation (and the count rows) runs in a thread: it overlaps the server's work on the
                # previous batch.
                for batch in generate_members(tree, seed=seed, chunk=chunk):
                    batch.count_rows = counter.add(batch.members, batch.states)  # type: ignore[attr-defined]
                    asyncio.run_coroutine_threadsafe(queue.put(batch), loop).result()
                asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

            producer = asyncio.create_task(asyncio.to_thread(produce))
            while (batch := await queue.get()) is not None:
                t0 = time.perf_counter()
                async with conn.transaction():
                    await conn.copy_records_to_table("members", records=batch.members, columns=MEMBER_COLUMNS)
                    await conn.copy_records_to_table(
                        "member_states", records=batch.states, columns=STATE_COLUMNS
                    )
                    await conn.copy_records_to_table(
                        "member_name_starts", records=batch.name_starts, columns=NAME_START_COLUMNS
                    )
                    await conn.copy_records_to_table(
                        "member_counts", records=batch.count_rows, columns=ORG_COUNT_COLUMNS
                    )
                db_seconds += time.perf_counter() - t0
                members += len(batch.members)
                states += len(batch.states)
                if progress:
                    _progress(members, total, states, db_seconds, started)
            await producer
            t0 = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "member_counts", records=counter.flush(), columns=ORG_COUNT_COLUMNS
                )
                await conn.copy_records_to_table(
                    "member_day_counts", records=counter.day_rows(), columns=DAY_COUNT_COLUMNS
                )
            db_seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            # Sorts of the rebuilt indexes (and the foreign keys' validating joins) in memory: the server's
            # defaults (64 MB, 4 MB) spill 5.6 M-row sorts to disk in many runs.
            await conn.execute(f"SET maintenance_work_mem = '{REBUILD_MEMORY}'")
            await conn.execute(f"SET work_mem = '{REBUILD_MEMORY}'")
            for statement in deferred:
                if progress:
                    print(f"\n  rebuilding: {statement[:110]}", end="", file=sys.stderr, flush=True)
                await conn.execute(statement)
            rebuild = time.perf_counter() - t0
            db_seconds += rebuild
            t0 = time.perf_counter()
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('member_states', 'id'), (SELECT max(id) FROM member_states))"
            )
            db_seconds += time.perf_counter() - t0
            # What autovacuum would do shortly after a bulk load (not counted in the load rate).
            t0 = time.perf_counter()
            # VACUUM too: PostgreSQL ≥ 13 autovacuums insert-only tables, which sets the visibility map the
            # index-only scans of the report rely on.
            for table in ("members", "member_states", "member_counts", "member_day_counts"):
                await conn.execute(f"VACUUM (ANALYZE) {table}")
            analyze = time.perf_counter() - t0
        finally:
            await conn.close()
    if progress:
        print(file=sys.stderr)
    return LoadedMembers(
        members, states, db_seconds, time.perf_counter() - started - analyze, analyze, rebuild
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-subtree", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=50_000, help="members per transaction")
    parser.add_argument("--url", required=True, help="a migrated orgs database (SQLAlchemy async URL)")
    parser.add_argument(
        "--with-tree", action="store_true", help="load the tree first (bench/load_tree.py); else it is there"
    )
    parser.add_argument(
        "--keep-indexes", action="store_true", help="PostgreSQL: COPY into the indexed tables"
    )
    args = parser.parse_args()
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    if args.with_tree:
        from load_tree import load as load_tree

        asyncio.run(load_tree(args.url, tree))
    loaded = asyncio.run(
        load(args.url, tree, seed=args.seed, chunk=args.chunk, defer_indexes=not args.keep_indexes)
    )
    print(
        f"loaded {loaded.members:,} members, {loaded.states:,} states in {loaded.seconds:.1f} s of database time "
        f"({loaded.members_per_second:,.0f} members/s, {loaded.rows_per_second:,.0f} rows/s); "
        f"{loaded.wall:.1f} s with generation; ANALYZE {loaded.analyze_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
