"""The consumer: inbox, ack after commit, retries with delays, dead letters — on a real nats-server."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from nats.js.api import StreamInfo
from prometheus_client import CollectorRegistry
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.cloudevents import CloudEvent, dumps, nats_subject, new_event
from shared.consumer import Consumer, dead_letters, inbox
from shared.db import Database
from shared.natsconn import NatsHandle
from shared.streams import ensure_consumer, ensure_stream
from shared.tests.messaging_support import metric, wait_until

STREAM = "TOCHUC_ORGS"

# A projection table of a pretend consuming service.
test_metadata = MetaData()
projection = Table(
    "org_projection",
    test_metadata,
    Column("id", String(50), primary_key=True),
    Column("name", String(200), nullable=False),
)


async def create_projection(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(test_metadata.drop_all)
        await conn.run_sync(test_metadata.create_all)


def event_body(org_id: str, *, name: str = "Chi bộ 1", poison: bool = False) -> dict[str, Any]:
    return new_event(
        service="orgs",
        type="orgs.organization.established.v1",
        subject=org_id,
        data={"id": org_id, "name": name, "poison": poison},
        sequence=1,
        request_id=None,
    )


async def publish(nats: NatsHandle, body: dict[str, Any]) -> None:
    await nats.js.publish(
        nats_subject(body["type"]), dumps(body).encode(), headers={"Nats-Msg-Id": body["id"]}
    )


async def projected(db: Database) -> dict[str, str]:
    async with db.session() as session:
        return {row.id: row.name for row in (await session.execute(select(projection))).all()}


async def count(db: Database, table: Table) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def project(session: AsyncSession, event: CloudEvent) -> None:
    """The handler: write a row; fail after writing it when asked to (so a partial write would show)."""
    await session.execute(insert(projection).values(id=event.data["id"], name=event.data["name"]))
    if event.data.get("poison"):
        raise RuntimeError("this event cannot be applied")


async def test_ensure_stream_and_consumer_are_idempotent_and_update(nats_handle: NatsHandle) -> None:
    first: StreamInfo = await ensure_stream(nats_handle.js, "orgs")
    again = await ensure_stream(nats_handle.js, "orgs")
    assert first.config.name == again.config.name == STREAM
    assert again.config.subjects == ["tochuc.orgs.>"]
    assert again.config.duplicate_window == 120
    assert again.config.max_age in (0, None)

    common: dict[str, Any] = {"consumer": "cadres", "owner": "orgs", "backoff": None, "ack_wait": 30.0}
    await ensure_consumer(nats_handle.js, filter_subjects=None, max_deliver=3, **common)
    info = await ensure_consumer(
        nats_handle.js,
        filter_subjects=["tochuc.orgs.organization.>", "tochuc.orgs.member.>"],
        max_deliver=6,
        **common,
    )
    assert info.name == "cadres__orgs"
    assert info.config.max_deliver == 6
    assert info.config.filter_subjects == ["tochuc.orgs.organization.>", "tochuc.orgs.member.>"]


async def test_a_poison_event_is_dead_lettered_after_max_deliver_delayed_attempts_and_the_rest_flows(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    await ensure_stream(nats_handle.js, "orgs")
    attempts: list[float] = []

    async def handler(session: AsyncSession, event: CloudEvent) -> None:
        if event.data.get("poison"):
            attempts.append(time.monotonic())
        await project(session, event)

    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=handler,
        registry=metrics_registry,
        max_deliver=3,
        backoff=(0.3, 0.6),
        fetch_timeout=0.2,
    )
    consumer.start()
    try:
        poison = event_body("bad", poison=True)
        await publish(nats_handle, poison)
        await publish(nats_handle, event_body("o1"))
        await publish(nats_handle, event_body("o2"))
        await wait_until(
            lambda: metric(metrics_registry, "tochuc_consumer_dead_letters", consumer="cadres__orgs") == 1
        )
        # The good events did not wait behind the poison one.
        assert await projected(kit_db) == {"o1": "Chi bộ 1", "o2": "Chi bộ 1"}

        # A delivery in a batch is tried twice at once (the batch, then alone): count deliveries, not calls.
        deliveries = [t for i, t in enumerate(attempts) if i == 0 or t - attempts[i - 1] > 0.1]
        assert len(deliveries) == 3  # exactly max_deliver
        gaps = [b - a for a, b in itertools.pairwise(deliveries)]
        assert gaps[0] >= 0.3 * 0.9 and gaps[1] >= 0.6 * 0.9, gaps  # naks carried the back-off delays

        async with kit_db.session() as session:
            letter = (await session.execute(select(dead_letters))).one()
        assert (letter.consumer, letter.event_id, letter.attempts) == ("cadres__orgs", poison["id"], 3)
        assert letter.subject == "tochuc.orgs.organization.established.v1"
        assert "this event cannot be applied" in letter.error and letter.resolved_at is None
        assert CloudEvent.parse(letter.payload.encode()).id == poison["id"]

        # The consumer goes on with new events after the dead letter.
        attempts_before = len(attempts)
        await publish(nats_handle, event_body("o3", name="Chi bộ 3"))
        await wait_until(
            lambda: metric(metrics_registry, "tochuc_consumer_processed_total", consumer="cadres__orgs") == 3
        )
        assert (await projected(kit_db))["o3"] == "Chi bộ 3"
        info = await nats_handle.js.consumer_info(STREAM, "cadres__orgs")
        assert (info.num_pending, info.num_ack_pending) == (0, 0)  # the poison is terminated, not pending
        assert len(attempts) == attempts_before  # not tried again
        assert metric(metrics_registry, "tochuc_consumer_failures_total", consumer="cadres__orgs") == 3
        assert await count(kit_db, inbox) == 3  # the dead-lettered event is not marked as applied
    finally:
        await consumer.stop()


async def test_a_malformed_body_is_dead_lettered_at_once(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    await ensure_stream(nats_handle.js, "orgs")
    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=project,
        registry=metrics_registry,
        backoff=(0.1,),
        fetch_timeout=0.2,
    )
    consumer.start()
    try:
        await nats_handle.js.publish(
            "tochuc.orgs.organization.amended.v1", b"{oops", headers={"Nats-Msg-Id": "m1"}
        )
        await publish(nats_handle, event_body("o1"))
        await wait_until(
            lambda: metric(metrics_registry, "tochuc_consumer_processed_total", consumer="cadres__orgs") == 1
        )
        await wait_until(
            lambda: metric(metrics_registry, "tochuc_consumer_dead_letters", consumer="cadres__orgs") == 1
        )
    finally:
        await consumer.stop()
    async with kit_db.session() as session:
        letter = (await session.execute(select(dead_letters))).one()
    assert (letter.event_id, letter.attempts, letter.payload) == ("m1", 1, "{oops")
    assert "malformed CloudEvent" in letter.error


@dataclass
class FakeMsg:
    """A JetStream message whose ack/nak/term are observed, to check what the DB holds at that moment."""

    data: bytes
    num_delivered: int = 1
    subject: str = "tochuc.orgs.organization.established.v1"
    headers: dict[str, str] | None = None
    on_ack: Any = None
    calls: list[tuple[str, float | None]] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        @dataclass
        class Metadata:
            num_delivered: int

        return Metadata(self.num_delivered)

    async def ack(self) -> None:
        self.calls.append(("ack", None))
        if self.on_ack is not None:
            await self.on_ack()

    async def nak(self, delay: float | None = None) -> None:
        self.calls.append(("nak", delay))

    async def term(self) -> None:
        self.calls.append(("term", None))


async def test_the_effect_is_committed_before_the_ack(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=project,
        registry=metrics_registry,
    )
    seen_at_ack: list[dict[str, str]] = []

    async def on_ack() -> None:  # another connection: sees only what is committed
        seen_at_ack.append(await projected(kit_db))

    body = event_body("o1")
    msg = FakeMsg(dumps(body).encode(), on_ack=on_ack)
    await consumer.process(msg)  # type: ignore[arg-type]
    assert msg.calls == [("ack", None)]
    assert seen_at_ack == [{"o1": "Chi bộ 1"}]

    again = FakeMsg(dumps(body).encode(), num_delivered=2)  # a redelivery: skipped by the inbox, acked
    await consumer.process(again)  # type: ignore[arg-type]
    assert again.calls == [("ack", None)]
    assert await count(kit_db, projection) == 1


async def test_a_failed_handler_leaves_no_partial_write_and_is_retried_later(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=project,
        registry=metrics_registry,
        max_deliver=3,
        backoff=(0.2, 1.0),
    )
    body = dumps(event_body("bad", poison=True)).encode()
    for delivered, expected in [(1, ("nak", 0.2)), (2, ("nak", 1.0)), (3, ("term", None))]:
        msg = FakeMsg(body, num_delivered=delivered)
        await consumer.process(msg)  # type: ignore[arg-type]
        assert msg.calls == [expected]
        assert await count(kit_db, projection) == 0  # the handler's insert was rolled back
        assert await count(kit_db, inbox) == 0
    assert await count(kit_db, dead_letters) == 1


async def test_a_batch_is_applied_in_one_transaction_and_acked_after_its_commit(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    consumer = Consumer(
        kit_db, nats_handle, name="cadres", owner="orgs", handler=project, registry=metrics_registry
    )
    seen_at_ack: list[dict[str, str]] = []

    async def on_ack() -> None:  # another connection: sees only what is committed
        seen_at_ack.append(await projected(kit_db))

    first = event_body("o1")
    bodies = [first, event_body("o2"), first, event_body("o3")]  # o1 delivered twice in the same batch
    msgs = [FakeMsg(dumps(b).encode(), on_ack=on_ack) for b in bodies]
    await consumer.process_batch(msgs)  # type: ignore[arg-type]
    assert [m.calls for m in msgs] == [[("ack", None)]] * 4
    whole = {"o1": "Chi bộ 1", "o2": "Chi bộ 1", "o3": "Chi bộ 1"}
    assert seen_at_ack == [whole] * 4  # every ack came after the one commit of the three effects
    assert await count(kit_db, inbox) == 3

    again = [FakeMsg(dumps(b).encode(), num_delivered=2) for b in bodies[:2]]  # redeliveries: skipped, acked
    await consumer.process_batch(again)  # type: ignore[arg-type]
    assert [m.calls for m in again] == [[("ack", None)]] * 2
    assert await count(kit_db, projection) == 3
    assert metric(metrics_registry, "tochuc_consumer_processed_total", consumer="cadres__orgs") == 6


async def test_a_failure_in_a_batch_is_the_failing_event_s_alone(
    kit_db: Database, nats_handle: NatsHandle, metrics_registry: CollectorRegistry
) -> None:
    await create_projection(kit_db)
    applied: list[str] = []

    async def handler(session: AsyncSession, event: CloudEvent) -> None:
        applied.append(event.data["id"])
        await project(session, event)

    consumer = Consumer(
        kit_db,
        nats_handle,
        name="cadres",
        owner="orgs",
        handler=handler,
        registry=metrics_registry,
        backoff=(0.2,),
    )
    msgs = [
        FakeMsg(dumps(event_body("o1")).encode()),
        FakeMsg(dumps(event_body("bad", poison=True)).encode()),
        FakeMsg(b"{oops", headers={"Nats-Msg-Id": "m1"}),
        FakeMsg(dumps(event_body("o2")).encode()),
    ]
    await consumer.process_batch(msgs)  # type: ignore[arg-type]
    assert [m.calls for m in msgs] == [[("ack", None)], [("nak", 0.2)], [("term", None)], [("ack", None)]]
    assert await projected(kit_db) == {"o1": "Chi bộ 1", "o2": "Chi bộ 1"}  # the poison's insert rolled back
    assert await count(kit_db, inbox) == 2 and await count(kit_db, dead_letters) == 1
    # The batch was tried whole (rolled back at the poison event), then one event per transaction.
    assert applied == ["o1", "bad", "o1", "bad", "o2"]
