"""PostgreSQL specifics of ``shared.db``: pooled connections are pinged when idle, not on every checkout."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import make_url, text

import shared.db
from shared.db import Database


def _server_dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _backend_pid(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_an_idle_connection_the_server_dropped_is_replaced_not_failed(
    kit_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kit_db.sqlite:
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE", 0.05)
    pid = await _backend_pid(kit_db)  # its connection is back in the pool
    admin = await asyncpg.connect(_server_dsn(kit_db))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # idle longer than PING_AFTER_IDLE: pinged at checkout, found dead, replaced
    assert await _backend_pid(kit_db) != pid


async def test_a_connection_in_steady_use_is_not_pinged(
    kit_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kit_db.sqlite:
        pytest.skip("PostgreSQL only")
    pings: list[object] = []
    dialect = kit_db.engine.dialect
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(dialect, "do_ping", counting_ping)
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE", 60.0)
    for _ in range(5):
        await _backend_pid(kit_db)
    assert pings == []
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE", 0.0)
    await _backend_pid(kit_db)
    assert len(pings) == 1
