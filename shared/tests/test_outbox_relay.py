"""The outbox and its relay, against a real nats-server and a SQLite database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from shared.cloudevents import CloudEvent
from shared.consumer import Consumer, inbox
from shared.db import Database
from shared.natsconn import NatsHandle
from shared.outbox import PENDING_KEY, outbox, record_event
from shared.relay import OutboxRelay
from shared.streams import ensure_stream
from shared.testing.nats import NatsServer
from shared.tests.messaging_support import metric, record_changes, stream_messages, unpublished, wait_until

STREAM = "TOCHUC_ORGS"


async def test_record_event_writes_in_the_callers_transaction_only(kit_db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with kit_db.transaction() as session:
            await record_event(
                session,
                service="orgs",
                type="orgs.organization.rated.v1",
                subject="o1",
                data={"id": "o1", "year": 2026, "rating": "good"},
                sequence=2,
            )
            assert session.info[PENDING_KEY] is True
            raise Boom
    assert await unpublished(kit_db) == 0

    async with kit_db.transaction() as session:
        event_id = await record_event(
            session,
            service="orgs",
            type="orgs.organization.rated.v1",
            subject="o1",
            data={"id": "o1", "year": 2026, "rating": "good"},
            sequence=2,
            request_id="r-9",
        )
    async with kit_db.session() as session:
        row = (await session.execute(select(outbox))).one()
    assert row.id == event_id
    assert row.subject == "tochuc.orgs.organization.rated.v1"
    assert row.published_at is None and row.attempts == 0
    envelope = json.loads(row.payload)
    assert (envelope["id"], envelope["requestid"], envelope["sequence"]) == (event_id, "r-9", 2)


async def test_relay_publishes_in_order_with_dedup_and_trace_headers(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await ensure_stream(nats_handle.js, "orgs")
    ids = await record_changes(kit_db, 25)
    relay = OutboxRelay(kit_db, nats_handle, service="orgs", registry=metrics_registry, batch_size=10)
    assert [await relay.drain_once() for _ in range(4)] == [10, 10, 5, 0]

    messages = await stream_messages(nats_handle.js, STREAM)
    assert [m.headers["Nats-Msg-Id"] for m in messages if m.headers] == ids
    assert [CloudEvent.parse(m.data or b"").id for m in messages] == ids
    assert messages[3].headers and messages[3].headers["traceparent"] == f"00-{3:032x}-{3:016x}-01"
    assert messages[3].subject == "tochuc.orgs.organization.amended.v1"
    assert await unpublished(kit_db) == 0
    assert metric(metrics_registry, "tochuc_outbox_published_total") == 25


async def test_a_commit_wakes_the_relay_at_once(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await ensure_stream(nats_handle.js, "orgs")
    # A poll interval of a minute: only the commit hook can make the event go out promptly.
    relay = OutboxRelay(kit_db, nats_handle, service="orgs", registry=metrics_registry, poll_interval=60)
    relay.start()
    try:
        await wait_until(lambda: metric(metrics_registry, "tochuc_outbox_backlog") == 0, timeout=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await record_changes(kit_db, 1)

        async def in_stream() -> bool:
            return (await nats_handle.js.stream_info(STREAM)).state.messages == 1

        await wait_until(in_stream, timeout=5, interval=0.002)
        assert loop.time() - started < 1.0
    finally:
        await relay.stop()


async def test_changes_made_while_nats_is_down_are_all_published_in_order_once_it_is_back(
    kit_db: Database,
    nats_server_factory: Callable[[], NatsServer],
    metrics_registry: CollectorRegistry,
) -> None:
    server = nats_server_factory()  # not started: the service starts while NATS is down
    handle = NatsHandle(server.url, name="relay-test", reconnect_time_wait=0.1, max_backoff=0.2)
    await handle.start()  # must not raise
    relay = OutboxRelay(
        kit_db, handle, service="orgs", registry=metrics_registry, max_backoff=0.3, gauge_interval=0.1
    )
    relay.start()
    try:
        ids = await record_changes(kit_db, 1000)
        await wait_until(lambda: metric(metrics_registry, "tochuc_outbox_backlog") == 1000)
        assert metric(metrics_registry, "tochuc_outbox_oldest_age_seconds") > 0
        assert relay.running and not handle.connected

        server.start()
        assert await handle.wait_connected(timeout=10)
        await ensure_stream(handle.js, "orgs")  # as the service's start-up task does once NATS is reachable

        async def drained() -> bool:
            return await unpublished(kit_db) == 0

        await wait_until(drained, timeout=30)

        # NATS stopped, more changes, NATS back on the same store: those go out too, after the first ones.
        server.stop()
        await wait_until(lambda: not handle.connected)
        ids += await record_changes(kit_db, 100, start=1000)
        await wait_until(lambda: metric(metrics_registry, "tochuc_outbox_backlog") == 100)
        assert relay.running
        server.start()
        await wait_until(drained, timeout=30)

        messages = await stream_messages(handle.js, STREAM)
        assert len(messages) == 1100
        assert [CloudEvent.parse(m.data or b"").id for m in messages] == ids  # in order, exactly once
        assert metric(metrics_registry, "tochuc_outbox_published_total") == 1100
        await wait_until(lambda: metric(metrics_registry, "tochuc_outbox_backlog") == 0)
    finally:
        await relay.stop()
        await handle.close()


class RelayKilled(BaseException):
    """A crash of the relay process (not an error it could handle)."""


async def test_a_relay_killed_between_ack_and_mark_republishes_and_nothing_is_applied_twice(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await ensure_stream(nats_handle.js, "orgs")
    ids = await record_changes(kit_db, 10)

    async def crash_on_fifth(event_id: str) -> None:
        if event_id == ids[4]:
            raise RelayKilled

    killed = OutboxRelay(
        kit_db, nats_handle, service="orgs", registry=metrics_registry, after_publish=crash_on_fifth
    )
    with pytest.raises(RelayKilled):
        await killed.drain_once()
    # JetStream acked at least the first five (the relay pipelines, so the rest of the window went out too)...
    assert (await nats_handle.js.stream_info(STREAM)).state.messages >= 5
    assert await unpublished(kit_db) == 10  # ...but the crash came before any mark

    successor = OutboxRelay(kit_db, nats_handle, service="orgs", registry=CollectorRegistry())
    assert await successor.drain_once() == 10
    messages = await stream_messages(nats_handle.js, STREAM)
    assert [CloudEvent.parse(m.data or b"").id for m in messages] == ids  # the re-sends were de-duplicated

    applied: list[str] = []

    async def handler(_session: object, event: CloudEvent) -> None:
        applied.append(event.id)

    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=handler,
        registry=metrics_registry,
        backoff=(0.1,),
    )
    consumer.start()
    try:
        await wait_until(lambda: len(applied) == 10)
    finally:
        await consumer.stop()
    assert applied == ids


async def test_an_event_published_twice_without_dedup_is_applied_once(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    """A re-publish after the duplicate window reaches the stream twice; the inbox applies it once."""
    await ensure_stream(nats_handle.js, "orgs")
    ids = await record_changes(kit_db, 2)
    async with kit_db.session() as session:
        rows = (
            await session.execute(select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq))
        ).all()
    first, second = rows
    for subject, payload in (first, first, second):
        await nats_handle.js.publish(subject, payload.encode())  # no Nats-Msg-Id
    assert (await nats_handle.js.stream_info(STREAM)).state.messages == 3

    applied: list[str] = []

    async def handler(_session: object, event: CloudEvent) -> None:
        applied.append(event.id)

    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=handler,
        registry=metrics_registry,
        backoff=(0.1,),
    )
    consumer.start()
    try:
        await wait_until(
            lambda: metric(metrics_registry, "tochuc_consumer_processed_total", consumer="cadres__orgs") == 3
        )
    finally:
        await consumer.stop()
    assert applied == ids
    async with kit_db.session() as session:
        assert (await session.execute(select(func.count()).select_from(inbox))).scalar_one() == 2
    info = await nats_handle.js.consumer_info(STREAM, "cadres__orgs")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)  # the duplicate was acked, not left hanging


async def test_the_relay_and_a_consumer_do_not_wait_for_a_pool_the_requests_hold(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    if kit_db.sqlite:
        pytest.skip("SQLite: one process, one writer lock shared by everyone (Database.for_worker)")
    await ensure_stream(nats_handle.js, "orgs")
    ids = await record_changes(kit_db, 3)
    relay = OutboxRelay(kit_db, nats_handle, service="orgs", registry=metrics_registry)
    applied: list[str] = []

    async def handler(_session: object, event: CloudEvent) -> None:
        applied.append(event.id)

    consumer = Consumer(
        kit_db, nats_handle, name="cadres", owner="orgs", handler=handler, registry=metrics_registry
    )
    # Requests holding every connection of the service's pool (10 + 20 overflow).
    held = [await kit_db.engine.connect() for _ in range(30)]
    try:
        assert await asyncio.wait_for(relay.drain_once(), timeout=10) == 3
        consumer.start()
        await wait_until(lambda: len(applied) == 3)
        assert applied == ids
    finally:
        for conn in held:
            await conn.close()
        await consumer.stop()
        await relay.stop()


async def test_a_relay_in_another_process_is_woken_by_the_commit_not_by_its_poll(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    if kit_db.sqlite:
        pytest.skip("PostgreSQL: LISTEN/NOTIFY; a SQLite file has one process's relay, woken by on_commit")
    await ensure_stream(nats_handle.js, "orgs")
    # The relay's own Database, as in a process of its own (TOCHUC_ROLES=relay): the writers' commits do
    # not reach it through on_commit, and it would poll only every minute.
    apart = Database(kit_db.url)
    writers = Database(kit_db.url, announce_outbox=True)  # an API process without a relay
    relay = OutboxRelay(apart, nats_handle, service="orgs", registry=metrics_registry, poll_interval=60)
    relay.start()
    try:
        await asyncio.sleep(0.5)  # listening
        started = asyncio.get_running_loop().time()
        ids = await record_changes(writers, 3)

        async def published() -> bool:
            return await unpublished(kit_db) == 0

        await wait_until(published, timeout=10)
        assert asyncio.get_running_loop().time() - started < 5  # the poll would have taken 60 s
        assert [
            m.headers["Nats-Msg-Id"] for m in await stream_messages(nats_handle.js, STREAM) if m.headers
        ] == ids
    finally:
        await relay.stop()
        await apart.dispose()
        await writers.dispose()
