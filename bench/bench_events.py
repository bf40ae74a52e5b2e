"""Event latency from commit to a consumer's commit, through the real outbox relay and a real consumer.

A writer in the "service" process commits changes at a fixed rate, each in its own transaction with its
outbox row (exactly what a service's unit of work does, without the HTTP and domain work in front of it, which
on this 2-core machine costs far more than the event path and is measured by bench_tree.py). The service's
own ``OutboxRelay`` publishes to a real nats-server; a second process runs the kit's durable ``Consumer``
(inbox rows, a fetched batch applied in one transaction, ack after commit) and notes when the transaction
that applied each event committed. Latency = that commit time − commit time of the writer's transaction,
per event id (the writer's commit time is when its task saw the commit return: with a busy writer, a relay
in another process can deliver first, and a latency can be slightly negative). A warm-up of ``--warmup`` changes (sent one by one before the timed run) is not counted.

    .venv/bin/python bench/bench_events.py --db sqlite --rate 500 --seconds 10
    .venv/bin/python bench/bench_events.py --db postgresql --rate 500 --seconds 10
    .venv/bin/python bench/bench_events.py --db postgresql --rate 500 --seconds 10 --relay-apart
    .venv/bin/python bench/bench_events.py --db postgresql --rate 500 --seconds 10 --relay-apart --writers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import CollectorRegistry

from shared.db import Database, kit_metadata

OUT = Path(__file__).resolve().parent / "out"
PG_ADMIN = os.environ.get("TOCHUC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


async def kit_database(url: str, *, announce_outbox: bool = False) -> Database:
    import shared.consumer
    import shared.outbox  # noqa: F401

    db = Database(url, announce_outbox=announce_outbox)
    async with db.engine.begin() as conn:
        await conn.run_sync(kit_metadata.drop_all)
        await conn.run_sync(kit_metadata.create_all)
    return db


def make_change(db: Database, committed: dict[str, float]) -> Any:
    """``change(i)``: one transaction recording one event, as a service's unit of work does; notes the time
    its commit returned in ``committed``."""
    from shared.outbox import record_event

    async def change(i: int) -> None:
        async with db.transaction() as session:
            event_id = await record_event(
                session,
                service="orgs",
                type="orgs.organization.amended.v1",
                subject=f"00000000-0000-0000-0000-{i:012d}",
                sequence=i + 1,
                data={"id": "x", "changes": {"name": f"n{i}"}},
            )
        committed[event_id] = time.time()

    return change


async def timed_changes(change: Any, indices: range, rate: float, start: float) -> None:
    """Change ``i`` at wall-clock ``start + i / rate`` (open loop: a slow commit delays no other)."""
    tasks = []
    for i in indices:
        delay = start + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(change(i)))
    await asyncio.gather(*tasks)


WRITER_WARMUP = 10


async def writer_main(db_url: str, start: float, rate: float, first: int, step: int, total: int) -> None:
    """Separate process (``--writers N``): another API replica's share of the changes; prints
    {event_id: commit time} at the end."""
    db = Database(db_url, announce_outbox=True)
    committed: dict[str, float] = {}
    change = make_change(db, committed)
    for j in range(WRITER_WARMUP):  # its pool's connections, before the timed run
        await change(total + 1_000_000 + first * WRITER_WARMUP + j)
    committed.clear()
    await timed_changes(change, range(first, total, step), rate, start)
    await db.dispose()
    print(json.dumps(committed), flush=True)


async def consumer_main(nats_url: str, db_url: str, expected: int) -> None:
    """Separate process: the kit's durable consumer; prints {event_id: time its effect committed} when all arrived."""
    from shared.consumer import Consumer
    from shared.natsconn import NatsHandle

    db = await kit_database(db_url)
    nats = NatsHandle(nats_url, name="bench-consumer")
    await nats.start()
    await nats.wait_connected(timeout=10)
    received: dict[str, float] = {}

    async def handler(session: Any, event: Any) -> None:
        session.info.setdefault("bench_events", []).append(event.id)

    def committed(session: Any) -> None:  # an event is received when its effect is committed
        now = time.time()
        for event_id in session.info.pop("bench_events", ()):
            received[event_id] = now

    db.on_commit(committed)

    consumer = Consumer(
        db,
        nats,
        name="bench",
        owner="orgs",
        handler=handler,
        registry=CollectorRegistry(),
        fetch_timeout=0.2,
        batch=100,
    )
    consumer.start()
    print("ready", flush=True)
    deadline = time.monotonic() + 120
    while len(received) < expected and time.monotonic() < deadline:  # noqa: ASYNC110  (a progress poll)
        await asyncio.sleep(0.05)
    await consumer.stop()
    await nats.close()
    await db.dispose()
    print(json.dumps(received), flush=True)


async def service_main(args: argparse.Namespace) -> None:
    from shared.natsconn import NatsHandle
    from shared.relay import OutboxRelay
    from shared.streams import ensure_stream
    from shared.testing.nats import NatsServer

    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=OUT, prefix="events-"))
    server = NatsServer(store_dir=work / "nats").start()
    pg_name = None
    if args.db == "postgresql":
        import asyncpg

        pg_name = f"tochuc_bench_events_{os.getpid()}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = "postgresql+asyncpg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + "/" + pg_name
    else:
        url = f"sqlite+aiosqlite:///{work / 'service.db'}"
    total = int(args.rate * args.seconds)
    consumer = relay_process = None
    try:
        db = await kit_database(url, announce_outbox=args.relay_apart)
        nats = NatsHandle(server.url, name="bench-service")
        await nats.start()
        await nats.wait_connected(timeout=10)
        await ensure_stream(nats.js, "orgs")
        consumer = subprocess.Popen(  # noqa: ASYNC220  (started once)
            [
                sys.executable,
                __file__,
                "--consumer",
                server.url,
                f"sqlite+aiosqlite:///{work / 'consumer.db'}",
                str(total + args.warmup + (args.writers - 1) * WRITER_WARMUP),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert (await asyncio.to_thread(consumer.stdout.readline)).strip() == "ready"  # type: ignore[union-attr]
        relay = None
        if args.relay_apart:
            # The relay in a process of its own, as TOCHUC_ROLES=relay deploys it (woken by NOTIFY).
            relay_process = subprocess.Popen(  # noqa: ASYNC220  (started once)
                [sys.executable, __file__, "--relay", server.url, url], stdin=subprocess.PIPE, text=True
            )
            await asyncio.sleep(1.0)  # connected and listening
        else:
            relay = OutboxRelay(db, nats, service="orgs", registry=CollectorRegistry())
            relay.start()
        committed: dict[str, float] = {}
        change = make_change(db, committed)

        # Warm-up, not timed: the first changes open the pools' connections and JetStream's reply
        # subscription (one slow first pass of the relay would otherwise sit in the timed run's tail).
        for i in range(args.warmup):
            await change(total + i)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        committed.clear()

        # --writers N: N−1 more processes (API replicas) take every N-th change; all start together.
        start = time.time() + (3.0 if args.writers > 1 else 0.0)
        writers = [
            subprocess.Popen(  # noqa: ASYNC220  (started once)
                [
                    sys.executable,
                    __file__,
                    "--writer",
                    url,
                    repr(start),
                    repr(args.rate),
                    str(k),
                    str(args.writers),
                    str(total),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(1, args.writers)
        ]
        cpu0, started = time.process_time(), time.perf_counter()
        await timed_changes(change, range(0, total, args.writers), args.rate, start)
        for writer in writers:
            out_w, _ = await asyncio.to_thread(writer.communicate, timeout=180)
            committed.update(json.loads(out_w.strip().splitlines()[-1]))
        elapsed = time.perf_counter() - started - (3.0 if args.writers > 1 else 0.0)
        out, _ = await asyncio.to_thread(consumer.communicate, timeout=180)
        cpu = time.process_time() - cpu0
        if relay is not None:
            await relay.stop()
        if relay_process is not None:
            await asyncio.to_thread(relay_process.communicate, timeout=30)  # stdin closes: it stops
        await nats.close()
        await db.dispose()
        received: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        latencies = [(received[k] - t) * 1000 for k, t in committed.items() if k in received]
        print(
            f"backend {args.db}: {len(committed):,} commits in {elapsed:.1f} s "
            f"= {len(committed) / elapsed:.0f}/s "
            f"(asked {args.rate:.0f}/s); received {len(received) - args.warmup - (args.writers - 1) * WRITER_WARMUP:,} (+ warm-up); "
            f"{'writer' if args.relay_apart else 'writer + relay'} process CPU "
            f"{cpu / max(len(range(0, total, args.writers)), 1) * 1000:.2f} ms per change it wrote"
            f"{f' (one of {args.writers} writers)' if args.writers > 1 else ''}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print(
            f"  commit → consumer's commit: p50 {pct(latencies, 50):.1f} ms · "
            f"p95 {pct(latencies, 95):.1f} ms · "
            f"p99 {pct(latencies, 99):.1f} ms · max {max(latencies or [0]):.1f} ms "
            f"[target p99 < 50 ms: {'MET' if pct(latencies, 99) < 50 else 'MISSED'}]"
        )
    finally:
        for child in (consumer, relay_process):
            if child is not None and child.poll() is None:
                child.kill()
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
        if pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()


async def relay_main(nats_url: str, db_url: str) -> None:
    """Separate process (``--relay-apart``): the service's outbox relay alone, until stdin closes."""
    from shared.natsconn import NatsHandle
    from shared.relay import OutboxRelay

    db = Database(db_url)
    nats = NatsHandle(nats_url, name="bench-relay")
    await nats.start()
    await nats.wait_connected(timeout=10)
    relay = OutboxRelay(db, nats, service="orgs", registry=CollectorRegistry())
    relay.start()
    await asyncio.to_thread(sys.stdin.read)
    await relay.stop()
    await nats.close()
    await db.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        a = sys.argv[2:]
        asyncio.run(writer_main(a[0], float(a[1]), float(a[2]), int(a[3]), int(a[4]), int(a[5])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        asyncio.run(relay_main(sys.argv[2], sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--consumer":
        asyncio.run(consumer_main(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rate", type=float, default=500.0, help="changes (commits) per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=50, help="changes sent first, not timed")
    parser.add_argument(
        "--writers", type=int, default=1, help="writer processes (API replicas), with --relay-apart"
    )
    parser.add_argument(
        "--relay-apart",
        action="store_true",
        help="PostgreSQL: run the relay in a process of its own (TOCHUC_ROLES=relay), woken by NOTIFY",
    )
    args = parser.parse_args()
    if args.relay_apart and args.db != "postgresql":
        parser.error("--relay-apart needs --db postgresql (a SQLite file has one process's relay)")
    if args.writers > 1 and not args.relay_apart:
        parser.error("--writers N needs --relay-apart (replicas of the API, the relay in its own process)")
    asyncio.run(service_main(args))


if __name__ == "__main__":
    main()
