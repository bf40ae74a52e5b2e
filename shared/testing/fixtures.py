"""Pytest fixtures of the shared kit, registered by the root ``conftest.py``.

Grouped by resource (NATS, database, metrics); add new groups below. Every fixture is generic: no service's
tables or domain here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

# Modules that define kit tables must be imported before ``kit_metadata.create_all``.
import shared.consumer
import shared.outbox  # noqa: F401
from shared.db import Database, kit_metadata
from shared.natsconn import NatsHandle
from shared.settings import sqlite_url
from shared.testing.nats import NatsServer

# --- NATS --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One real nats-server (JetStream) for the whole session. Do not stop it: use ``nats_server_factory``."""
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats-session"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server_factory(tmp_path: Path) -> Iterator[Callable[[], NatsServer]]:
    """Private servers for tests that stop and restart NATS; all stopped at the end of the test."""
    servers: list[NatsServer] = []

    def make() -> NatsServer:
        server = NatsServer(store_dir=tmp_path / f"nats-{len(servers)}")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


async def _delete_all_streams(handle: NatsHandle) -> None:
    for info in await handle.js.streams_info():
        if info.config.name:
            await handle.js.delete_stream(info.config.name)


@pytest.fixture
async def nats_handle(nats_server: NatsServer) -> AsyncIterator[NatsHandle]:
    """A connected :class:`NatsHandle` on the session server, with no stream left by earlier tests."""
    handle = NatsHandle(nats_server.url, name="test")
    await handle.start()
    if not await handle.wait_connected(timeout=10):
        raise RuntimeError(f"cannot connect to {nats_server.url}")
    await _delete_all_streams(handle)
    yield handle
    await handle.close()


# --- database ----------------------------------------------------------------------------------------


async def create_kit_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(kit_metadata.create_all)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A :class:`Database` on a fresh SQLite file with the kit's tables (outbox, inbox, dead letters…)."""
    db = Database(sqlite_url(tmp_path / "test.db"))
    await create_kit_tables(db)
    yield db
    with contextlib.suppress(Exception):
        await db.dispose()


@pytest.fixture(scope="session")
def _kit_pg_database() -> Iterator[str | None]:
    """On ``TOCHUC_TEST_DB=postgresql``: one scratch database for the kit's tests (dropped at the end)."""
    from shared.testing.service import _pg_admin, asyncpg_url, pg_admin_url, test_backend

    if test_backend() == "sqlite":
        yield None
        return
    name = f"tochuc_test_kit_{os.getpid()}"
    asyncio.run(_pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']))
    yield asyncpg_url(pg_admin_url(), name)
    asyncio.run(_pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


@pytest.fixture
async def kit_db(tmp_path: Path, _kit_pg_database: str | None) -> AsyncIterator[Database]:
    """Like ``sqlite_db``, on the backend of the run: PostgreSQL under ``make test-pg`` (the relay then takes
    its advisory lock and ``FOR UPDATE SKIP LOCKED``), SQLite otherwise. Empty at the start of each test."""
    if _kit_pg_database is None:
        db = Database(sqlite_url(tmp_path / "test.db"))
    else:
        db = Database(_kit_pg_database)
        async with db.engine.begin() as conn:
            await conn.run_sync(kit_metadata.drop_all)
    await create_kit_tables(db)
    yield db
    with contextlib.suppress(Exception):
        await db.dispose()


# --- metrics -----------------------------------------------------------------------------------------


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    """A private Prometheus registry, so each test reads its own figures."""
    return CollectorRegistry()
