"""The PostgreSQL restore drill (``deploy/scripts/restore-drill.sh``) on a real, migrated orgs database.

Needs PostgreSQL and the client tools (pg_dump, pg_restore, psql): runs under ``make test-pg``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.migrations import upgrade
from shared.testing.service import _pg_admin, asyncpg_url, pg_admin_url
from shared.testing.service import test_backend as backend_in_use

REPO = Path(__file__).resolve().parents[1]
DRILL = REPO / "deploy" / "scripts" / "restore-drill.sh"

pytestmark = [
    pytest.mark.skipif(backend_in_use() != "postgresql", reason="needs PostgreSQL (make test-pg)"),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")),
        reason="needs the PostgreSQL client tools (pg_dump, pg_restore, psql)",
    ),
]


@pytest.fixture
def orgs_database() -> Iterator[str]:
    name = f"tochuc_drill_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin([f'CREATE DATABASE "{name}"']))
    url = asyncpg_url(pg_admin_url(), name)
    try:
        upgrade("orgs", url)
        yield url
    finally:
        asyncio.run(
            _pg_admin(
                [
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{name}_restore_drill" WITH (FORCE)',
                ]
            )
        )


async def _seed(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.executemany(
            "INSERT INTO outbox (id, subject, payload, headers, created_at, attempts) "
            "VALUES ($1, 'tochuc.orgs.test.v1', '{}', '{}', now(), 0)",
            [(str(uuid.uuid4()),) for _ in range(25)],
        )
    finally:
        await conn.close()


def test_the_restore_drill_restores_a_dump_identically(orgs_database: str, tmp_path: Path) -> None:
    asyncio.run(_seed(orgs_database))
    dump = tmp_path / "orgs.dump"
    command = ["bash", str(DRILL), orgs_database, str(dump)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore drill OK" in result.stdout and "identical" in result.stdout
    assert dump.stat().st_size > 0  # the backup is kept where asked
    rows = int(result.stdout.split(" rows identical")[0].rsplit(" ", 1)[1])
    assert rows >= 26  # the 25 outbox rows and alembic_version at least


def test_the_restore_drill_needs_a_database(tmp_path: Path) -> None:
    result = subprocess.run(["bash", str(DRILL)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "usage:" in result.stderr
