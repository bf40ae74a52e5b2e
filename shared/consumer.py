"""Durable pull consumers with an inbox (nothing applied twice) and a dead-letter table.

For each message: in ONE transaction, skip it if ``(consumer, event id)`` is already in the inbox, else run
the handler and insert the inbox row; commit; only then ack. A failed handler rolls back (no partial
write) and the message is nak'ed *with a delay* from ``backoff`` (a bare nak redelivers at once); on its
``max_deliver``-th delivery it is written to ``dead_letters`` and terminated, and the consumer goes on.
A body that is not a CloudEvent goes to ``dead_letters`` at once.

A fetched batch is applied in one transaction (one inbox look-up, the handlers in delivery order, one
insert of the inbox rows, one commit, then the acks): the commit and the session, not the handlers, were
most of an event's cost. If anything in the batch fails, the whole transaction rolls back and the batch is
applied again one message per transaction, so a failure stays the failing event's alone.

Ordering: JetStream delivers a stream in order, but a retried message comes back after later ones, and a
re-published event may arrive late. Handlers keep, per aggregate, the last applied CloudEvent
``sequence`` and ignore an event whose ``sequence`` is not greater (a stale event), so applying events
stays correct whatever the delivery order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError as NatsNotFoundError
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Column, DateTime, Integer, String, Table, Text, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.cloudevents import CloudEvent
from shared.db import Database, kit_metadata
from shared.logs import event_id_var
from shared.natsconn import NatsHandle
from shared.outbox import utcnow
from shared.streams import durable_name, ensure_consumer, pull_subscription, stream_name

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]

DEFAULT_MAX_DELIVER = 5
DEFAULT_ACK_WAIT = 30.0

inbox = Table(
    "inbox",
    kit_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

# Built once: one of each per event applied.
_SEEN = select(inbox.c.event_id).where(
    inbox.c.consumer == bindparam("b_consumer"), inbox.c.event_id == bindparam("b_event_id")
)
_SEEN_MANY = select(inbox.c.event_id).where(
    inbox.c.consumer == bindparam("b_consumer"), inbox.c.event_id.in_(bindparam("b_ids", expanding=True))
)
_RECORD = insert(inbox)

dead_letters = Table(
    "dead_letters",
    kit_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False, index=True),
    Column("event_id", String(64), nullable=True),
    Column("subject", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class _ConsumerMetrics:
    processed: Counter
    failures: Counter
    dead_letters: Gauge
    lag: Gauge


_metrics_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _ConsumerMetrics] = (
    weakref.WeakKeyDictionary()
)


def _consumer_metrics(registry: CollectorRegistry) -> _ConsumerMetrics:
    """One set of collectors per registry, shared by the consumers of a service (label ``consumer``)."""
    metrics = _metrics_by_registry.get(registry)
    if metrics is None:
        labels = ["consumer"]
        metrics = _ConsumerMetrics(
            processed=Counter(
                "tochuc_consumer_processed",
                "Events applied (or skipped as already applied)",
                labels,
                registry=registry,
            ),
            failures=Counter("tochuc_consumer_failures", "Handler failures", labels, registry=registry),
            dead_letters=Gauge(
                "tochuc_consumer_dead_letters", "Unresolved dead letters", labels, registry=registry
            ),
            lag=Gauge(
                "tochuc_consumer_lag", "Messages not yet delivered to the consumer", labels, registry=registry
            ),
        )
        _metrics_by_registry[registry] = metrics
    return metrics


async def unresolved_dead_letters(session: AsyncSession, consumer: str | None = None) -> int:
    query = select(func.count()).select_from(dead_letters).where(dead_letters.c.resolved_at.is_(None))
    if consumer is not None:
        query = query.where(dead_letters.c.consumer == consumer)
    return int((await session.execute(query)).scalar_one())


class Consumer:
    """The durable consumer ``<name>__<owner>`` feeding ``handler``; ``start()`` / ``stop()``."""

    def __init__(
        self,
        db: Database,
        nats: NatsHandle,
        *,
        name: str,
        owner: str,
        handler: Handler,
        registry: CollectorRegistry,
        filter_subjects: Sequence[str] | None = None,
        max_deliver: int = DEFAULT_MAX_DELIVER,
        backoff: Sequence[float] = (0.2, 1, 5, 15),
        batch: int = 50,
        fetch_timeout: float = 0.5,
        ack_wait: float = DEFAULT_ACK_WAIT,
        lag_interval: float = 5.0,
        retry_max: float = 5.0,
        replicas: int | None = None,
    ) -> None:
        if max_deliver < 1:
            raise ValueError("max_deliver must be at least 1")
        if not backoff:
            raise ValueError("backoff needs at least one delay (a bare nak redelivers at once)")
        self._main_db = db
        self._db = db.for_worker()  # PostgreSQL: a pool of its own (see Database.for_worker)
        self._nats = nats
        self.name = name
        self.owner = owner
        self.durable = durable_name(name, owner)
        self.stream = stream_name(owner)
        self._handler = handler
        self.filter_subjects = list(filter_subjects) if filter_subjects else None
        self.max_deliver = max_deliver
        self.backoff = [float(b) for b in backoff]
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self.lag_interval = lag_interval
        self.retry_max = retry_max
        self.replicas = replicas
        metrics = _consumer_metrics(registry)
        self._processed = metrics.processed.labels(self.durable)
        self._failures = metrics.failures.labels(self.durable)
        self._dead_letters = metrics.dead_letters.labels(self.durable)
        self._lag = metrics.lag.labels(self.durable)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._said_missing = False
        self._lag_at = 0.0

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"consumer-{self.durable}")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the message in hand (fetches are short), then stop; cancel if it takes too long."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=grace)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._db is not self._main_db:
            await self._db.dispose()  # its pool comes back if the consumer is started again

    async def _run(self) -> None:
        retry = 0.1
        while not self._stopping:
            try:
                if not await self._nats.wait_connected(timeout=self.fetch_timeout):
                    await asyncio.sleep(0.05)  # the handle may be closing: never spin
                    continue
                sub = await self._subscribe(self._nats.js)
                await self._refresh_dead_letters()
                retry = 0.1
                await self._loop(sub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A stream that does not exist yet (its owner has never run) is expected, not alarming:
                # said once as a warning, then only at debug level until it appears.
                missing = isinstance(exc, NatsNotFoundError)
                level = logging.DEBUG if missing and self._said_missing else logging.WARNING
                log.log(level, "consumer %s: %s; retrying in %.1f s", self.durable, exc, retry)
                self._said_missing = self._said_missing or missing
                await asyncio.sleep(retry)
                retry = min(retry * 2, self.retry_max)

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        await ensure_durable(
            js,
            consumer=self.name,
            owner=self.owner,
            filter_subjects=self.filter_subjects,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            replicas=self.replicas,
        )
        return await pull_subscription(js, consumer=self.name, owner=self.owner)

    async def _loop(self, sub: JetStreamContext.PullSubscription) -> None:
        try:
            while not self._stopping:
                await self._refresh_lag(sub)
                try:
                    messages = await sub.fetch(self.batch, timeout=self.fetch_timeout)
                except (TimeoutError, NatsTimeoutError):
                    continue  # nothing to do (nats-py raises on an empty fetch)
                await self.process_batch(messages)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    # --- a batch -------------------------------------------------------------------------------------

    async def process_batch(self, messages: Sequence[Msg]) -> None:
        """Apply a fetched batch in one transaction; on any failure, one message per transaction."""
        parsed: list[tuple[Msg, CloudEvent]] = []
        for msg in messages:
            try:
                parsed.append((msg, CloudEvent.parse(msg.data)))
            except ValueError as exc:
                await self._dead_letter(msg, _event_id_of(msg), str(exc), attempts=_delivered(msg))
        if len(parsed) <= 1:
            for msg, event in parsed:
                await self._apply(msg, event)
            return
        try:
            async with self._db.transaction() as session:
                ids = list({event.id for _, event in parsed})
                seen = set(
                    (await session.execute(_SEEN_MANY, {"b_consumer": self.name, "b_ids": ids})).scalars()
                )
                rows = []
                for _, event in parsed:
                    if event.id in seen:
                        continue  # applied before, or twice in this batch
                    token = event_id_var.set(event.id)
                    try:
                        await self._handler(session, event)
                    finally:
                        event_id_var.reset(token)
                    seen.add(event.id)
                    rows.append({"consumer": self.name, "event_id": event.id, "processed_at": utcnow()})
                if rows:
                    await session.execute(_RECORD, rows)
        except Exception as exc:
            log.info(
                "consumer %s: a batch of %d failed (%s); applying it one by one",
                self.durable,
                len(parsed),
                exc,
            )
            for msg, event in parsed:
                await self._apply(msg, event)
            return
        for msg, _ in parsed:
            await msg.ack()
        self._processed.inc(len(parsed))

    # --- one message ---------------------------------------------------------------------------------

    async def process(self, msg: Msg) -> None:
        """Apply one message: inbox check + handler + inbox row in one transaction, then ack."""
        try:
            event = CloudEvent.parse(msg.data)
        except ValueError as exc:
            await self._dead_letter(msg, _event_id_of(msg), str(exc), attempts=_delivered(msg))
            return
        await self._apply(msg, event)

    async def _apply(self, msg: Msg, event: CloudEvent) -> None:
        token = event_id_var.set(event.id)
        try:
            try:
                async with self._db.transaction() as session:
                    seen = await session.execute(_SEEN, {"b_consumer": self.name, "b_event_id": event.id})
                    if seen.first() is None:
                        await self._handler(session, event)
                        await session.execute(
                            _RECORD, {"consumer": self.name, "event_id": event.id, "processed_at": utcnow()}
                        )
            except Exception as exc:
                await self._failed(msg, event, exc)
                return
            await msg.ack()
            self._processed.inc()
        finally:
            event_id_var.reset(token)

    async def _failed(self, msg: Msg, event: CloudEvent, exc: Exception) -> None:
        self._failures.inc()
        delivered = _delivered(msg)
        if delivered >= self.max_deliver:
            log.error(
                "consumer %s: event %s failed %d times, dead-lettered: %s",
                self.durable,
                event.id,
                delivered,
                exc,
                exc_info=exc,  # the traceback, once, where operators look for dead letters
            )
            await self._dead_letter(msg, event.id, f"{type(exc).__name__}: {exc}", attempts=delivered)
            return
        delay = self.backoff[min(delivered - 1, len(self.backoff) - 1)]
        log.warning(
            "consumer %s: event %s failed (delivery %d), retrying in %.1f s: %s",
            self.durable,
            event.id,
            delivered,
            delay,
            exc,
        )
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, event_id: str | None, error: str, *, attempts: int) -> None:
        try:
            async with self._db.transaction() as session:
                await session.execute(
                    insert(dead_letters).values(
                        consumer=self.durable,
                        event_id=event_id,
                        subject=msg.subject,
                        payload=msg.data.decode("utf-8", errors="replace"),
                        error=error[:10000],
                        attempts=attempts,
                        created_at=utcnow(),
                        resolved_at=None,
                    )
                )
        except Exception as exc:  # keep the message: it comes back and is dead-lettered then
            log.error("consumer %s: cannot write a dead letter: %s", self.durable, exc)
            await msg.nak(delay=self.backoff[-1])
            return
        await msg.term()
        self._dead_letters.inc()

    # --- metrics -------------------------------------------------------------------------------------

    async def _refresh_dead_letters(self) -> None:
        async with self._db.session() as session:
            self._dead_letters.set(await unresolved_dead_letters(session, self.durable))

    async def _refresh_lag(self, sub: JetStreamContext.PullSubscription) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._lag_at < self.lag_interval:
            return
        self._lag_at = now
        try:
            info = await sub.consumer_info()
        except Exception as exc:
            log.debug("consumer %s: no consumer info: %s", self.durable, exc)
            return
        self._lag.set(info.num_pending or 0)


async def ensure_durable(
    js: JetStreamContext,
    *,
    consumer: str,
    owner: str,
    filter_subjects: Sequence[str] | None,
    max_deliver: int = DEFAULT_MAX_DELIVER,
    ack_wait: float = DEFAULT_ACK_WAIT,
    replicas: int | None = None,
) -> ConsumerInfo:
    """Create or update the durable ``<consumer>__<owner>`` exactly as a running :class:`Consumer` does
    (``tochuc migrate`` calls it too, so the replicas find their consumer ready)."""
    return await ensure_consumer(
        js,
        consumer=consumer,
        owner=owner,
        filter_subjects=filter_subjects,
        # One spare delivery: a crash while dead-lettering the last attempt still gets it dead-lettered.
        max_deliver=max_deliver + 1,
        backoff=None,  # retries are paced by nak(delay); ack_wait covers a consumer that died
        ack_wait=ack_wait,
        replicas=replicas,
    )


def _delivered(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1


def _event_id_of(msg: Msg) -> str | None:
    """The id of a body we cannot parse as a CloudEvent, if there is one anywhere."""
    try:
        body = json.loads(msg.data)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            return str(body["id"])[:64]
    except ValueError:
        pass
    header = (msg.headers or {}).get("Nats-Msg-Id")
    return header[:64] if header else None
