"""Database access: engines, sessions, the base model and the unit of work.

One unit of work per request: the :class:`UnitOfWorkRoute` opens a session before the endpoint runs and
commits it *before* the response is sent (FastAPI >= 0.118 runs dependency teardown after sending, so a
commit there could fail after the client already saw a 2xx). Services never commit; repositories never
commit; only the unit of work does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The tables of the shared kit (outbox, inbox, dead letters, idempotency keys). Every service has them in its
# own database; each service's migrations include this metadata next to its own.
kit_metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own metadata (one per service, so each migrates only its tables)."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    name = url_or_engine if isinstance(url_or_engine, str) else url_or_engine.url.drivername
    return name.startswith("sqlite")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine tuned for the dialect.

    SQLite: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for write transactions, so two
    writers queue instead of failing with "database is locked" when a read lock cannot be upgraded.
    """
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            write = conn.get_execution_options().get("tochuc_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """The engine and session factory of one service, owned by the app's lifespan."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.sqlite = is_sqlite(url)
        # SQLite allows one writer: queue writers of this process here rather than in the busy handler.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self._after_commit: list[Callable[[AsyncSession], None]] = []

    def on_commit(self, callback: Callable[[AsyncSession], None]) -> None:
        """Register a callback run after each unit of work commits (e.g. wake the outbox relay)."""
        self._after_commit.append(callback)

    def committed(self, session: AsyncSession) -> None:
        for callback in self._after_commit:
            callback(session)

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Rolled back and closed on exit if not committed."""
        if self._write_lock is not None and write:
            async with self._write_lock:
                async with self.sessionmaker() as session:
                    await session.connection(execution_options={"tochuc_write": True})
                    yield session
        else:
            async with self.sessionmaker() as session:
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write session committed on success (for workers: relay, consumers, loaders)."""
        async with self.session(write=True) as session:
            yield session
            await session.commit()
            self.committed(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
