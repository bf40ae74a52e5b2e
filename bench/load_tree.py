"""Write a generated tree straight into an orgs database, as the service stores it (bench loader).

For each organization: its identity row in ``organizations`` (``node`` assigned here, in parent-first order),
one ``organization_versions`` row (open-ended, path built with ``repository.child_path``, ``name_search`` with
``shared.text.normalize``) and one ``organization_changes`` "established" row, through the service's own
SQLAlchemy tables (so every value is encoded as the service encodes it). Bulk: executemany in chunks, one
transaction per chunk. **It skips the outbox** (no ``established`` events are written): it is a bench loader.

    .venv/bin/python bench/load_tree.py --scale 0.05 --db sqlite
    .venv/bin/python bench/load_tree.py --scale 1 --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generate_tree import Tree, generate  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from services.orgs.organizations import repository as repo  # noqa: E402
from services.orgs.organizations.models import Organization, OrganizationChange, OrganizationVersion  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.text import normalize  # noqa: E402

O = Organization.__table__  # noqa: E741  (the repository's names)
V = OrganizationVersion.__table__
C = OrganizationChange.__table__
RECORDED_BY = "bench-loader"


@dataclass
class Loaded:
    """What the benchmarks need to find again: node numbers, ids and current paths, by generator index."""

    nodes: list[int]
    ids: list[uuid.UUID]
    paths: list[str]
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _rows(
    tree: Tree, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[uuid.UUID], list[str]]:
    """Build every row in memory first, so the timed part is the database's."""
    import random

    rng = random.Random(seed)
    recorded_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    orgs, versions, changes, ids, paths = [], [], [], [], []
    for node in tree.nodes:
        number = node.index + 1  # organizations.node, 1-based, parents first
        org_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        parent_path = paths[node.parent] if node.parent is not None else None
        path = repo.child_path(parent_path, number)
        ids.append(org_id)
        paths.append(path)
        orgs.append(
            {
                "node": number,
                "id": org_id,
                "code": node.code,
                "version": 1,
                "established_on": node.established_on,
                "decision_no": node.decision_no,
                "decided_on": node.decided_on,
                "recorded_at": recorded_at,
            }
        )
        versions.append(
            {
                "node": number,
                "valid_from": node.established_on,
                "valid_to": None,
                "parent_node": node.parent + 1 if node.parent is not None else None,
                "path": path,
                "depth": path.count("/") - 2,
                "name": node.name,
                "name_search": normalize(node.name),
                "level": node.level,
                "kind": node.kind,
                "tags": repo.tags_text(node.tags),
                "status": "active",
                "merged_into_node": None,
            }
        )
        changes.append(
            {
                "node": number,
                "sequence": 1,
                "change": "established",
                "effective_on": node.established_on,
                "recorded_at": recorded_at,
                "decision_no": node.decision_no,
                "decided_on": node.decided_on,
                "reason": None,
                "before": None,
                "after": {
                    "code": node.code,
                    "name": node.name,
                    "level": node.level,
                    "kind": node.kind,
                    "tags": sorted(node.tags),
                    "parent_id": str(ids[node.parent]) if node.parent is not None else None,
                },
                "recorded_by": RECORDED_BY,
                "request_id": None,
            }
        )
    return orgs, versions, changes, ids, paths


async def load(url: str, tree: Tree, *, chunk: int = 10_000, progress: bool = True) -> Loaded:
    """Load ``tree`` into the (migrated, empty) orgs database at ``url``; return ids and timing."""
    orgs, versions, changes, ids, paths = _rows(tree, tree.seed)
    total = len(orgs)
    db = Database(url)
    started = time.perf_counter()
    try:
        for start in range(0, total, chunk):
            async with db.transaction() as session:
                await session.execute(insert(O), orgs[start : start + chunk])
                await session.execute(insert(V), versions[start : start + chunk])
                await session.execute(insert(C), changes[start : start + chunk])
            if progress:
                done = min(start + chunk, total)
                elapsed = time.perf_counter() - started
                print(
                    f"\r  loaded {done:>7}/{total} organizations ({3 * done / elapsed:,.0f} rows/s)",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
        async with db.transaction() as session:
            if not db.sqlite:
                # Nodes were given explicitly: move the serial on, or the service's next insert collides.
                await session.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('organizations', 'node'),"
                        " (SELECT max(node) FROM organizations))"
                    )
                )
        seconds = time.perf_counter() - started
        if not db.sqlite:
            # What autovacuum would do shortly after a bulk load; done now so the plans do not flip mid-run.
            async with db.transaction() as session:
                await session.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    if progress:
        print(file=sys.stderr)
    return Loaded(nodes=[i + 1 for i in range(total)], ids=ids, paths=paths, rows=3 * total, seconds=seconds)


def loaded_as_generated(tree: Tree) -> Loaded:
    """What ``load`` returns, recomputed without touching a database (ids are deterministic by seed): for
    benchmarking a database this loader filled earlier (``bench_tree.py --reuse``)."""
    import random

    rng = random.Random(tree.seed)
    ids: list[uuid.UUID] = []
    paths: list[str] = []
    for node in tree.nodes:
        ids.append(uuid.UUID(int=rng.getrandbits(128), version=4))
        paths.append(repo.child_path(paths[node.parent] if node.parent is not None else None, node.index + 1))
    total = len(tree.nodes)
    return Loaded(nodes=[i + 1 for i in range(total)], ids=ids, paths=paths, rows=3 * total, seconds=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-subtree", type=int, default=10_000)
    parser.add_argument("--url", required=True, help="a migrated, empty orgs database (SQLAlchemy async URL)")
    args = parser.parse_args()
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    loaded = asyncio.run(load(args.url, tree))
    print(
        f"loaded {len(tree.nodes)} organizations, {loaded.rows} rows in {loaded.seconds:.1f} s "
        f"({loaded.rows_per_second:,.0f} rows/s); outbox skipped (bench loader)"
    )


if __name__ == "__main__":
    main()
