"""The outbox relay: publishes committed outbox rows to JetStream, in order, never dropping one.

Rules (see ``docs`` and the events spec):

- rows go out in ``seq`` order, one publish at a time, each awaiting JetStream's ack; a row is marked
  published only after its ack, so a crash anywhere re-sends (``Nats-Msg-Id`` makes the re-send a no-op
  within the stream's duplicate window, and consumers' inboxes catch any later one);
- a failure stops the batch (a later row must not overtake an earlier one), is recorded on the row
  (``attempts``, ``last_error``) and the relay backs off exponentially (capped) until NATS is back;
- on PostgreSQL only one replica publishes at a time: the batch runs under
  ``pg_try_advisory_xact_lock(<per service>)`` and selects rows ``FOR UPDATE SKIP LOCKED``;
- a commit that wrote outbox rows wakes the relay at once (``Database.on_commit``), so latency is the
  publish round trip, not the poll interval; on PostgreSQL the commit also sends ``NOTIFY
  tochuc_outbox_<service>`` (``record_event``), on which the relay listens, so a relay in another process
  (``TOCHUC_ROLES``) is woken as fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Row, func, make_url, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.db import Database
from shared.natsconn import NatsHandle, NatsUnavailable
from shared.outbox import PENDING_KEY, as_aware, notify_channel, outbox, utcnow

# Messages written before their acks are awaited (in order, on one connection).
PIPELINE = 64

log = logging.getLogger(__name__)

AfterPublish = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class _RelayMetrics:
    backlog: Gauge
    oldest_age: Gauge
    published: Counter
    errors: Counter


_metrics_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _RelayMetrics] = (
    weakref.WeakKeyDictionary()
)


def _relay_metrics(registry: CollectorRegistry) -> _RelayMetrics:
    """One set of collectors per registry (a registry refuses a name registered twice)."""
    metrics = _metrics_by_registry.get(registry)
    if metrics is None:
        metrics = _RelayMetrics(
            backlog=Gauge("tochuc_outbox_backlog", "Outbox rows not yet published", registry=registry),
            oldest_age=Gauge(
                "tochuc_outbox_oldest_age_seconds",
                "Age of the oldest unpublished outbox row (0 when none)",
                registry=registry,
            ),
            published=Counter(
                "tochuc_outbox_published", "Outbox rows published and acknowledged", registry=registry
            ),
            errors=Counter(
                "tochuc_outbox_publish_errors", "Failed publishes of outbox rows", registry=registry
            ),
        )
        _metrics_by_registry[registry] = metrics
    return metrics


# PostgreSQL, through the driver's DB-API cursor in the relay's session (its transaction; SQLAlchemy's asyncpg
# cursor sends BEGIN before the first statement): per pass, one statement to lock and read, one to mark.
_FETCH_PG = (
    "SELECT seq, id, subject, payload, headers FROM outbox "
    "WHERE (SELECT pg_try_advisory_xact_lock($1)) AND published_at IS NULL "
    "ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED"
)
_MARK_PG = "UPDATE outbox SET published_at = now(), last_error = NULL WHERE seq = ANY($1::bigint[])"


class _Pending(NamedTuple):
    seq: int
    id: str
    subject: str
    payload: str
    headers: dict[str, Any] | None


def _fetch_pg(sync_session: Session, params: tuple[int, int]) -> list[_Pending]:
    cursor = sync_session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_FETCH_PG, params)
        return [_Pending(*record) for record in cursor.fetchall()]  # asyncpg Records: no attributes
    finally:
        cursor.close()


def _mark_pg(sync_session: Session, seqs: list[int]) -> None:
    cursor = sync_session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_MARK_PG, (seqs,))
    finally:
        cursor.close()


def advisory_lock_key(service: str) -> int:
    """A stable signed 64-bit key per service for ``pg_try_advisory_xact_lock``."""
    digest = hashlib.blake2b(f"tochuc-outbox-relay:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def outbox_backlog(session: AsyncSession) -> tuple[int, float | None]:
    """(unpublished rows, age in seconds of the oldest one or None) — for health checks and metrics."""
    row = (
        await session.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
        )
    ).one()
    count, oldest = int(row[0]), row[1]
    if oldest is None:
        return count, None
    return count, max(0.0, (utcnow() - as_aware(oldest)).total_seconds())


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        nats: NatsHandle,
        *,
        service: str,
        registry: CollectorRegistry,
        batch_size: int = 200,
        poll_interval: float = 0.5,
        max_backoff: float = 5.0,
        publish_timeout: float = 5.0,
        gauge_interval: float = 1.0,
        mark_interval: float = 0.1,
        min_pass_interval: float | None = None,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self._main_db = db
        self._db = db.for_worker()  # PostgreSQL: a pool of its own (see Database.for_worker)
        self._nats = nats
        self.service = service
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.publish_timeout = publish_timeout
        self.gauge_interval = gauge_interval
        self.mark_interval = mark_interval
        # PostgreSQL: a pass costs four round trips to the database and one to NATS whatever it publishes;
        # under a steady stream of commits the next pass starts at least this long after the previous one
        # started (SQLite's pass is one read).
        self.min_pass_interval = (
            min_pass_interval if min_pass_interval is not None else (0.0 if self._db.sqlite else 0.005)
        )
        # Fault injection for tests: runs after JetStream's ack and before the row is marked.
        self._after_publish = after_publish
        self._metrics = _relay_metrics(registry)
        self._lock_key = advisory_lock_key(service)
        self._wake = asyncio.Event()
        self._nats_back = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._hooked = False
        self._gauges_at = 0.0
        # SQLite: acked rows not yet marked, and the highest acked seq (rows up to it are not re-read).
        self._unmarked: list[int] = []
        self._marking: asyncio.Task[None] | None = None
        self._acked_upto = 0
        self._marked_at = 0.0
        self._listener: asyncio.Task[None] | None = None

    # --- control -------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Publish now (called after a commit that wrote outbox rows)."""
        self._wake.set()

    def _on_commit(self, session: AsyncSession) -> None:
        if session.info.pop(PENDING_KEY, False):
            self._wake.set()

    def _on_nats_connected(self) -> None:
        self._nats_back.set()
        self._wake.set()

    def start(self) -> None:
        if self._task is not None:
            return
        if not self._hooked:
            self._main_db.on_commit(self._on_commit)
            self._nats.on_connected(self._on_nats_connected)
            self._hooked = True
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")
        if not self._db.sqlite:
            self._listener = asyncio.create_task(self._listen(), name=f"outbox-listen-{self.service}")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, grace: float = 5.0) -> None:
        """Let the pass in hand finish (cancelling inside a database call can wedge the driver), then stop."""
        self._stopping = True
        self._wake.set()
        self._nats_back.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=grace)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self._flush_marks()
        except Exception as exc:  # the rows are re-sent by the next relay and de-duplicated
            log.warning("outbox relay: could not mark published rows at stop: %s", exc)
        if self._db is not self._main_db:
            await self._db.dispose()  # its pool comes back if the relay is started again

    async def _listen(self) -> None:
        """PostgreSQL: wake on ``NOTIFY tochuc_outbox_<service>`` from any process; reconnect when lost."""
        channel = notify_channel(self.service)
        dsn = make_url(self._main_db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        retry = 0.5
        while not self._stopping:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda *_, lost=lost: lost.set())
                await conn.add_listener(channel, lambda *_: self._wake.set())
                self._wake.set()  # what was committed while not listening
                retry = 0.5
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the poll interval covers the gap
                log.debug("outbox relay: not listening on %s: %s; retrying in %.1f s", channel, exc, retry)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=1))
            await asyncio.sleep(retry)
            retry = min(retry * 2, self.max_backoff)

    # --- the loop ------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            started = loop.time()
            try:
                published = await self._drain(flush=False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                backoff = min(max(backoff * 2, 0.1), self.max_backoff)
                log.log(
                    logging.DEBUG if isinstance(exc, NatsUnavailable) else logging.WARNING,
                    "outbox relay: publishing failed, retrying in %.1f s: %s",
                    backoff,
                    exc,
                )
                await self._refresh_gauges(force=True)
                # Commits do not cut the back-off short (NATS is away); NATS coming back does.
                self._nats_back.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._nats_back.wait(), timeout=backoff)
                continue
            backoff = 0.0
            if self._unmarked and published == 0:
                await self._flush_marks()
            await self._refresh_gauges()
            if published >= self.batch_size:
                continue  # more is waiting
            if not self._wake.is_set():  # (a commit during the pass: go again, without a timer)
                idle = min(self.poll_interval, self.mark_interval) if self._unmarked else self.poll_interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=idle)
            if published and self.min_pass_interval > 0 and not self._stopping:
                # Busy: let the commits of the next few milliseconds join the next pass, rather than a pass
                # (BEGIN, read, publish, mark, COMMIT) per commit or two. Idle, a commit is published at once.
                delay = started + self.min_pass_interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def _refresh_gauges(self, *, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        if not force and now - self._gauges_at < self.gauge_interval:
            return
        self._gauges_at = now
        try:
            async with self._db.session() as session:
                count, age = await outbox_backlog(session)
        except Exception as exc:  # the database may be away too; metrics must not kill the relay
            log.warning("outbox relay: cannot read the backlog: %s", exc)
            return
        self._metrics.backlog.set(count)
        self._metrics.oldest_age.set(age or 0.0)

    # --- one pass ------------------------------------------------------------------------------------

    def _pending_query(self, after: int = 0) -> Any:
        return (
            select(outbox.c.seq, outbox.c.id, outbox.c.subject, outbox.c.payload, outbox.c.headers)
            .where(outbox.c.published_at.is_(None), outbox.c.seq > after)
            .order_by(outbox.c.seq)
            .limit(self.batch_size)
        )

    async def drain_once(self) -> int:
        """Publish up to ``batch_size`` pending rows once and mark them; return how many were published.

        Raises when a publish fails (after recording it on the row) or NATS is not connected.
        """
        return await self._drain(flush=True)

    async def _drain(self, *, flush: bool) -> int:
        if not self._nats.connected:
            raise NatsUnavailable("NATS is not connected")
        if self._db.sqlite:
            return await self._drain_sqlite(flush=flush)
        return await self._drain_locked()

    async def _drain_sqlite(self, *, flush: bool) -> int:
        # One process owns a SQLite file: no lock needed. Read, publish outside any transaction (so the
        # service's writers are not blocked by network round trips). Marks are written at most every
        # ``mark_interval`` (SQLite has one writer: a write per commit would halve the service's write
        # rate); rows acked but not yet marked are skipped by seq, and re-sent only after a crash.
        async with self._db.session() as session:
            rows = (await session.execute(self._pending_query(self._acked_upto))).all()
        done: list[int] = []
        failure: tuple[int, Exception] | None = None
        if rows:
            done, failure = await self._publish(rows)
            self._unmarked.extend(done)
            if done:
                self._acked_upto = done[-1]
        now = asyncio.get_running_loop().time()
        if failure is not None or flush:
            await self._flush_marks()
            async with self._db.transaction() as session:
                await self._mark(session, [], failure)
            self._marked_at = now
        elif self._unmarked and now - self._marked_at >= self.mark_interval and self._marking is None:
            # Marked in the background: the mark waits for SQLite's single writer behind the service's own
            # writes, and publishing must not wait with it (rows past ``_acked_upto`` are not re-read).
            pending, self._unmarked = self._unmarked, []
            self._marked_at = now
            self._marking = asyncio.create_task(
                self._write_marks(pending), name=f"outbox-marks-{self.service}"
            )
        return self._finish(done, failure)

    async def _write_marks(self, seqs: list[int]) -> None:
        try:
            async with self._db.transaction() as session:
                await self._mark(session, seqs, None)
        except Exception as exc:  # keep them for the next mark; a crash before then only re-sends them
            log.warning("outbox relay: could not mark %d published rows yet: %s", len(seqs), exc)
            self._unmarked[:0] = seqs
        finally:
            self._marking = None

    async def _flush_marks(self) -> None:
        if self._marking is not None:
            await asyncio.shield(self._marking)
        if self._unmarked:
            async with self._db.transaction() as session:
                await self._mark(session, self._unmarked, None)
            self._unmarked = []

    async def _drain_locked(self) -> int:
        async with self._db.session(write=True) as session:
            # One statement takes the advisory lock (an InitPlan, evaluated once, before any row is read)
            # and the pending rows; without the lock it returns no rows: another replica is publishing.
            rows = await session.run_sync(_fetch_pg, (self._lock_key, self.batch_size))
            if not rows:
                await session.commit()
                return 0
            done, failure = await self._publish(rows)
            if done:
                await session.run_sync(_mark_pg, done)
            if failure is not None:
                await self._mark(session, [], failure)
            await session.commit()
        return self._finish(done, failure)

    async def _publish(
        self, rows: Sequence[Row[Any]] | Sequence[_Pending]
    ) -> tuple[list[int], tuple[int, Exception] | None]:
        """Publish in order until one fails; return the acked seqs and the failure (seq, error).

        Pipelined: up to ``PIPELINE`` messages are written to the connection before their acks are awaited,
        in order. One connection delivers them to the stream in order, so the stream order is the outbox
        order. If one fails, the ones after it are not counted as done (they are re-sent and de-duplicated
        by ``Nats-Msg-Id``), and the relay stops the batch there, as in the one-by-one case.
        """
        done: list[int] = []
        js = self._nats.js
        for start in range(0, len(rows), PIPELINE):
            window = rows[start : start + PIPELINE]
            futures: list[tuple[Row[Any] | _Pending, asyncio.Future[Any]]] = []
            failure: tuple[int, Exception] | None = None
            acked = 0
            for row in window:
                headers = {"Nats-Msg-Id": row.id}
                if row.headers:
                    for key, value in row.headers.items():
                        if value:
                            headers[str(key)] = str(value)
                try:
                    futures.append(
                        (row, await js.publish_async(row.subject, row.payload.encode(), headers=headers))
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failure = (row.seq, exc)
                    break
            try:
                async with asyncio.timeout(self.publish_timeout):  # one timer for the window's acks
                    for row, future in futures:
                        try:
                            ack = await future
                            if getattr(ack, "error", None):
                                raise RuntimeError(str(ack.error))
                            if self._after_publish is not None:
                                await self._after_publish(row.id)
                        except asyncio.CancelledError:
                            raise  # a crash, or the deadline: see below
                        except Exception as exc:
                            failure = (row.seq, exc)
                            break
                        done.append(row.seq)
                        acked += 1
            except TimeoutError as exc:  # the first row not acked in time fails; the rest are re-sent
                failure = (futures[acked][0].seq, exc)
            if failure is not None:
                for _row, future in futures:
                    future.cancel()
                self._metrics.errors.inc()
                return done, failure
        return done, None

    async def _mark(
        self, session: AsyncSession, done: list[int], failure: tuple[int, Exception] | None
    ) -> None:
        if done:
            await session.execute(
                update(outbox).where(outbox.c.seq.in_(done)).values(published_at=utcnow(), last_error=None)
            )
        if failure is not None:
            seq, exc = failure
            await session.execute(
                update(outbox)
                .where(outbox.c.seq == seq)
                .values(attempts=outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            )

    def _finish(self, done: list[int], failure: tuple[int, Exception] | None) -> int:
        self._metrics.published.inc(len(done))
        if failure is not None:
            seq, exc = failure
            raise RuntimeError(f"publishing outbox row {seq} failed: {exc}") from exc
        return len(done)
