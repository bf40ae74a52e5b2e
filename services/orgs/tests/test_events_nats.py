"""The orgs events reach JetStream as CloudEvents, with Nats-Msg-Id = the event id."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats

from services.orgs.tests.conftest import Tree


async def _collect(url: str, subject: str, want: int, wait: float = 10.0) -> list[Any]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(subject, ordered_consumer=True, deliver_policy=nats.js.api.DeliverPolicy.ALL)
        got: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while len(got) < want and loop.time() < deadline:
            try:
                got.append(await sub.next_msg(timeout=max(0.05, deadline - loop.time())))
            except nats.errors.TimeoutError:
                break
        return got
    finally:
        await nc.close()


async def test_changes_are_published_to_the_orgs_stream(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers={**h, "X-Request-ID": "req-move-1"},
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01"},
    )
    assert r.status_code == 200
    msgs = await _collect(
        svc.settings.effective_nats_url, "tochuc.orgs.organization.moved.v1", want=50, wait=3
    )
    mine = [m for m in msgs if json.loads(m.data)["subject"] == ids["NA.HD.XA"]]
    assert len(mine) == 1
    event = json.loads(mine[0].data)
    assert mine[0].headers["Nats-Msg-Id"] == event["id"]
    assert event["type"] == "vn.tochuc.orgs.organization.moved.v1" and event["source"] == "/tochuc/orgs"
    assert event["specversion"] == "1.0" and event["requestid"] == "req-move-1" and event["sequence"] == 2
    assert event["data"]["to_parent_id"] == ids["NA.TC"]
