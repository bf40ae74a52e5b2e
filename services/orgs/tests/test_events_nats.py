"""The orgs events reach JetStream as CloudEvents, with Nats-Msg-Id = the event id."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats

from services.orgs.tests.conftest import Tree


async def _first_about(url: str, subject: str, about: str, wait: float = 20.0) -> list[Any]:
    """The stream's messages on ``subject`` up to one whose CloudEvent subject is ``about`` and those that
    follow within 0.5 s (or ``wait`` s: the relay starts, and the stream is created, in the background of a
    busy test machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    got: list[Any] = []
    while loop.time() < deadline:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            try:
                sub = await js.subscribe(
                    subject, ordered_consumer=True, deliver_policy=nats.js.api.DeliverPolicy.ALL
                )
            except nats.js.errors.NotFoundError:  # no stream yet
                await asyncio.sleep(0.2)
                continue
            while loop.time() < deadline:
                try:
                    msg = await sub.next_msg(timeout=max(0.05, deadline - loop.time()))
                except nats.errors.TimeoutError:
                    break
                got.append(msg)
                if json.loads(msg.data)["subject"] == about:
                    while True:  # and what follows at once (a duplicate would be there)
                        try:
                            got.append(await sub.next_msg(timeout=0.5))
                        except nats.errors.TimeoutError:
                            return got
        finally:
            await nc.close()
    return got


async def test_changes_are_published_to_the_orgs_stream(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers={**h, "X-Request-ID": "req-move-1"},
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01"},
    )
    assert r.status_code == 200
    msgs = await _first_about(
        svc.settings.effective_nats_url, "tochuc.orgs.organization.moved.v1", ids["NA.HD.XA"]
    )
    mine = [m for m in msgs if json.loads(m.data)["subject"] == ids["NA.HD.XA"]]
    assert len(mine) == 1
    event = json.loads(mine[0].data)
    assert mine[0].headers["Nats-Msg-Id"] == event["id"]
    assert event["type"] == "vn.tochuc.orgs.organization.moved.v1" and event["source"] == "/tochuc/orgs"
    assert event["specversion"] == "1.0" and event["requestid"] == "req-move-1" and event["sequence"] == 2
    assert event["data"]["to_parent_id"] == ids["NA.TC"]
