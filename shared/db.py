"""Database access: engines, sessions, the base model and the unit of work.

One unit of work per request: the :class:`UnitOfWorkRoute` opens a session before the endpoint runs and
commits it *before* the response is sent (FastAPI >= 0.118 runs dependency teardown after sending, so a
commit there could fail after the client already saw a 2xx). Services never commit; repositories never
commit; only the unit of work does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
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


BUSY_TIMEOUT = 30.0  # seconds a statement waits for another connection's lock before it fails


async def _when_unlocked(call: Callable[..., Any], *args: Any) -> Any:
    """Run ``call``; while SQLite answers "locked"/"busy", wait *asynchronously* and retry.

    The inline connections have no busy handler: SQLite's would sleep on the event loop's thread, and the
    connection holding the lock may be a threaded one whose transaction can only end when the loop runs —
    a deadlock until the timeout. Waiting here lets the loop run. Retrying is what SQLite's own busy handler
    does: the statement had taken no effect.
    """
    delay, deadline = 0.001, time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            return call(*args)
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


class _InlineSqliteCursor:
    """An aiosqlite-shaped cursor whose awaitables complete at once (see :func:`create_engine`)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineSqliteCursor:
        return self

    def __getattr__(self, name: str) -> Any:  # description, rowcount, lastrowid, arraysize
        return getattr(self._cursor, name)

    async def execute(self, operation: str, parameters: Any = ()) -> _InlineSqliteCursor:
        await _when_unlocked(self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation: str, seq_of_parameters: Any) -> _InlineSqliteCursor:
        await _when_unlocked(self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _ImmediateQueue:
    """Stands for aiosqlite's request queue, which SQLAlchemy's adapter uses to set ``isolation_level``."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class _InlineSqliteConnection:
    """An aiosqlite-shaped connection that runs each statement on the calling (event loop) thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = self._connection = connection
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _InlineSqliteCursor:
        return _InlineSqliteCursor(self._conn.cursor())

    async def commit(self) -> None:
        await _when_unlocked(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def create_engine(
    url: str, *, echo: bool = False, inline: bool = False, pool_size: int = 10, max_overflow: int = 20
) -> AsyncEngine:
    """An async engine tuned for the dialect.

    SQLite: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for write transactions, so two
    writers queue instead of failing with "database is locked" when a read lock cannot be upgraded.

    ``inline`` (SQLite only): statements run on the event loop's thread instead of aiosqlite's worker
    thread. The write engine uses it: a write transaction holds the database's only write lock, and with a
    thread hop per statement the holder waited for the event loop to serve every other request between two
    statements — measured, that convoy cut writes per second by several times under concurrent load. Write
    statements are short; reads (reports can take a while) keep the threaded engine so the loop stays free.
    """
    if is_sqlite(url):
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}}
        if inline:
            path = make_url(url).database or ":memory:"

            async def connect() -> _InlineSqliteConnection:
                return _InlineSqliteConnection(
                    sqlite3.connect(path, timeout=0, check_same_thread=False, isolation_level=None)
                )

            kwargs = {"async_creator": connect}
        engine = create_async_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Inline connections wait for locks asynchronously (_when_unlocked), never in SQLite's handler.
            cur.execute("PRAGMA busy_timeout=0" if inline else "PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            write = conn.get_execution_options().get("tochuc_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle longer than this is pinged before use (a stale connection, e.g. after a
# database restart, is replaced instead of failing the request). Not SQLAlchemy's ``pool_pre_ping``: with
# asyncpg that is BEGIN, a statement and ROLLBACK — three round trips on every checkout, measured as the
# largest single cost of a short write transaction (the outbox path at 500 changes/s). A connection used
# within the last second is not pinged: if the server went away meanwhile, the statement fails as any
# in-flight one would, and SQLAlchemy then invalidates the whole pool (a disconnect error recycles every
# older connection).
PING_AFTER_IDLE = 1.0
_CHECKED_IN_AT = "tochuc.checked_in_at"


def _ping_when_idle(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)  # None: a fresh connection
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # As pool_pre_ping does: this connection and every older one are replaced; the pool retries.
            raise InvalidatePoolError(f"pooled connection failed its ping: {exc}") from exc


async def _close(session: AsyncSession) -> None:
    """Close ``session`` as ``async with session`` does, without its task when there is nothing to send.

    ``AsyncSession.__aexit__`` closes in a task of its own, so that a cancellation cannot abandon a rollback
    half-way. After a commit (or before any statement) there is no transaction: closing only hands the
    connection back to the pool, with no I/O to abandon — and a task per unit of work was a measurable
    share of a short write transaction's CPU and one more event-loop turn of its latency.
    """
    if session.in_transaction():
        async with session:  # a rollback to send: closed in its own task, as SQLAlchemy does
            pass
    else:
        await session.close()


ANNOUNCE_OUTBOX = "tochuc.announce_outbox"  # in a session's info: record_event sends NOTIFY


class Database:
    """The engine and session factory of one service, owned by the app's lifespan."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        max_overflow: int = 20,
        announce_outbox: bool = False,
    ) -> None:
        self.url = url
        self.echo = echo
        self.sqlite = is_sqlite(url)
        self.engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        # PostgreSQL, when no relay runs in this process: a transaction that records events also sends a
        # NOTIFY that wakes the relays of other processes (shared.outbox.record_event). Not by default:
        # PostgreSQL serializes the commits of transactions that notify, and an in-process relay is woken
        # by on_commit for free.
        self.announce_outbox = announce_outbox and not self.sqlite
        info = {ANNOUNCE_OUTBOX: True} if self.announce_outbox else {}
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info=info
        )
        # SQLite: writes on their own engine whose statements run inline (see create_engine).
        self.write_engine = create_engine(url, echo=echo, inline=True) if self.sqlite else self.engine
        self.write_sessionmaker = (
            async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False, info=info)
            if self.sqlite
            else self.sessionmaker
        )
        # SQLite allows one writer: queue writers of this process here rather than in the busy handler.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self._after_commit: list[Callable[[AsyncSession], None]] = []

    def for_worker(self) -> Database:
        """This database for a background worker (the relay, a consumer): on PostgreSQL a pool of its own, so
        that the worker does not queue for a connection behind requests holding every pooled one (measured:
        with writers saturating the pool, events waited seconds to be published); on SQLite this one, whose
        writers must share one lock. The caller disposes of what it got when it is not this one."""
        if self.sqlite:
            return self
        worker = Database(
            self.url, echo=self.echo, pool_size=1, max_overflow=1, announce_outbox=self.announce_outbox
        )
        worker._after_commit = self._after_commit  # its commits wake the relay as the requests' do
        return worker

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
                async with self.write_sessionmaker() as session:
                    await session.connection(execution_options={"tochuc_write": True})
                    yield session
        else:
            session = self.sessionmaker()
            try:
                yield session
            finally:
                await _close(session)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write session committed on success (for workers: relay, consumers, loaders)."""
        async with self.session(write=True) as session:
            yield session
            await session.commit()
            self.committed(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
