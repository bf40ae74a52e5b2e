"""Helpers of the messaging tests (outbox, relay, consumer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from shared.db import Database
from shared.outbox import outbox, record_event


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    interval: float = 0.02,
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def record_changes(db: Database, count: int, *, service: str = "orgs", start: int = 0) -> list[str]:
    """``count`` changes, each committed in its own transaction as a service would; returns the event ids."""
    ids = []
    for n in range(start, start + count):
        async with db.transaction() as session:
            ids.append(
                await record_event(
                    session,
                    service=service,
                    type=f"{service}.organization.amended.v1",
                    subject=f"org-{n % 7}",
                    data={"id": f"org-{n % 7}", "n": n},
                    sequence=n + 1,
                    traceparent=f"00-{n:032x}-{n:016x}-01",
                )
            )
    return ids


async def stream_messages(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    info = await js.stream_info(stream)
    first, last = info.state.first_seq, info.state.last_seq
    if info.state.messages == 0:
        return []
    return [await js.get_msg(stream, seq) for seq in range(first, last + 1)]


async def unpublished(db: Database) -> int:
    async with db.session() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
            ).scalar_one()
        )


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value: Any = registry.get_sample_value(name, labels or None)
    return float(value) if value is not None else 0.0
