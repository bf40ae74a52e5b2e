"""SQLite engines: writes run inline on the event loop, and a lock held elsewhere is waited for without
blocking the loop (so a threaded connection of the same process can finish and release it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from shared.db import Database
from shared.settings import sqlite_url


async def test_a_write_waits_for_another_connections_lock_and_the_loop_keeps_running(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "t.db"))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        # A threaded connection takes the write lock and keeps it for a while.
        holder = await (await db.engine.connect()).execution_options(tochuc_write=True)
        transaction = await holder.begin()  # BEGIN IMMEDIATE (the engine's begin listener)
        await holder.execute(text("INSERT INTO t VALUES (1)"))

        async def release_later() -> None:
            await asyncio.sleep(0.3)
            await transaction.commit()
            await holder.close()

        releasing = asyncio.create_task(release_later())
        before = ticks
        async with db.transaction() as session:  # inline: BEGIN IMMEDIATE must wait, asynchronously
            await session.execute(text("INSERT INTO t VALUES (2)"))
        await releasing
        assert ticks - before >= 10, "the event loop was blocked while the write waited"
        async with db.session() as session:
            assert (await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [1, 2]
        ticking.cancel()
    finally:
        await db.dispose()


async def test_writes_and_reads_use_separate_engines_on_sqlite_only(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "t.db"))
    try:
        assert db.write_engine is not db.engine
        async with db.transaction() as session:
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
            timeout = (await session.execute(text("PRAGMA busy_timeout"))).scalar()
        assert (mode, timeout) == ("wal", 0)
        async with db.session() as session:
            assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
    finally:
        await db.dispose()
