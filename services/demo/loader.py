"""Send a :class:`Plan` to the gateway: one pooled client, bounded concurrency, phases in order.

Within a phase every chain runs concurrently with the others and its own requests in order. A POST carries an
``Idempotency-Key`` derived from the plan, so a retry after a lost connection or a 502/503/504 cannot create
twice; PUTs are idempotent as they are. Any other failure stops the load with a message naming the request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from services.demo.model import Op, Phase, Plan, Ref

CONCURRENCY = 24
ATTEMPTS = 4
RETRY_STATUSES = frozenset({502, 503, 504})
KEY_NAMESPACE = uuid.UUID("6f1d2c1e-8d3b-4a7e-9a40-7d1c5e0b2a11")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
# Nouns of the progress line, in the order shown.
PLURALS = {
    "organization": "organizations", "dissolution": "dissolutions", "document": "documents",
    "member": "members", "recognition": "recognitions", "transfer": "transfers", "departure": "departures",
    "residential unit": "residential units", "rating": "ratings", "post": "posts", "cadre": "cadres",
    "plan": "plans", "payroll": "payroll entries", "programme": "programmes", "course": "courses",
    "enrollment": "enrollments", "completion": "completions",
}  # fmt: skip


class DemoLoadError(RuntimeError):
    """A request of the demo failed; the message names it."""


class Loader:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        seed: int,
        concurrency: int = CONCURRENCY,
        say: Callable[[str], None] = print,
    ) -> None:
        self.client = client
        self.seed = seed
        self.concurrency = concurrency
        self.say = say
        self.ids: dict[str, str] = {}
        self._keys: dict[int, str] = {}

    async def run(self, plan: Plan) -> Counter[str]:
        self._keys = {
            id(op): str(uuid.uuid5(KEY_NAMESPACE, f"{self.seed}:{n}")) for n, op in enumerate(plan.walk())
        }
        started = time.monotonic()
        done: Counter[str] = Counter()
        for number, phase in enumerate(plan.phases, 1):
            phase_started = time.monotonic()
            await self._phase(phase)
            counts = phase.counts()
            done += counts
            self.say(
                f"demo      {number}/{len(plan.phases)} {phase.name:<10} {describe(counts)} "
                f"— {sum(counts.values())} requests in {time.monotonic() - phase_started:.1f} s "
                f"({time.monotonic() - started:.1f} s in all)"
            )
        return done

    async def _phase(self, phase: Phase) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def chain(op: Op) -> None:
            async with gate:
                await self._chain(op)

        try:
            async with asyncio.TaskGroup() as group:
                for op in phase.ops:
                    group.create_task(chain(op))
        except BaseExceptionGroup as failed:
            raise _first(failed) from None

    async def _chain(self, op: Op) -> None:
        await self._send(op)
        for following in op.then:
            await self._chain(following)

    async def _send(self, op: Op) -> None:
        path = _PLACEHOLDER.sub(lambda m: self.ids[m.group(1)], op.path)
        body = self._resolve(op.body)
        headers = {"Idempotency-Key": self._keys[id(op)]} if op.method == "POST" else {}
        response = await self._request(op, path, body, headers)
        if response.status_code >= 300:
            raise DemoLoadError(
                f"{op.method} /api/v1{path} ({op.what}) answered {response.status_code}: "
                f"{_detail(response)}; "
                f"body: {_short(body)}"
            )
        if op.key is not None:
            self.ids[op.key] = _created_id(response.json())

    async def _request(self, op: Op, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = await self.client.request(op.method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == ATTEMPTS:
                    raise DemoLoadError(f"{op.method} /api/v1{path} ({op.what}) failed: {exc!r}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt == ATTEMPTS:
                    return response
            await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ids[value.key]
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value


def without(plan: Plan, service: str) -> Plan:
    """The plan without one service's requests (and what chains after them)."""

    def keep(ops: list[Op]) -> list[Op]:
        return [Op(**{**op.__dict__, "then": keep(op.then)}) for op in ops if op.service != service]

    return Plan([Phase(p.name, keep(p.ops)) for p in plan.phases], plan.orgs)


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first failure of a task group (the others are the cancellations it caused, or more of the same)."""
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def describe(counts: Counter[str]) -> str:
    actions = sum(n for what, n in counts.items() if what.startswith("action:"))
    parts = [f"{counts[w]} {PLURALS[w]}" for w in PLURALS if counts[w]]
    if actions:
        parts.append(f"{actions} personnel actions")
    return ", ".join(parts)


def _created_id(answer: dict[str, Any]) -> str:
    """The id of what a request created: top-level, or inside ``{action|plan|enrollment, findings}``."""
    if "id" in answer:
        return str(answer["id"])
    for value in answer.values():
        if isinstance(value, dict) and "id" in value:
            return str(value["id"])
    raise DemoLoadError(f"no id in the answer {_short(answer)}")


def _detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return _short(response.text)
    if isinstance(problem, dict):
        text = str(problem.get("detail") or problem.get("title") or problem)
        if problem.get("errors"):
            text += f" {problem['errors']}"
        return _short(text, 600)
    return _short(problem)


def _short(value: Any, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
