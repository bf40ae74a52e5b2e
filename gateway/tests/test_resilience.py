"""The circuit breaker and the retry policy, on an injected clock and random source; then an upstream using
them against a real HTTP server: reads retried on 503 and on a refused connection, writes never."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from gateway.resilience import CircuitBreaker, CircuitOpenError, CircuitState, RetryPolicy
from gateway.tests.conftest import GatewayFactory
from gateway.tests.stack import serve_here
from gateway.tests.upstream_app import free_port
from gateway.upstream import Upstream, UpstreamCircuitOpen, UpstreamUnavailable, make_upstream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list[CircuitState] | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        "training",
        failure_threshold=3,
        reset_timeout=5.0,
        clock=clock,
        on_change=(lambda _s, state: changes.append(state)) if changes is not None else None,
    )


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(2):
        b.acquire()
        b.failure()
    b.acquire()
    b.success()  # a success in between: the count starts again
    for _ in range(2):
        b.acquire()
        b.failure()
    assert b.state is CircuitState.closed and b.consecutive_failures == 2
    b.acquire()
    b.failure()
    assert b.state is CircuitState.open and changes == [CircuitState.open]
    with pytest.raises(CircuitOpenError) as refused:
        b.acquire()
    assert refused.value.retry_in == 5.0


def test_after_the_cool_down_one_probe_goes_through_and_its_outcome_decides() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.acquire()
        b.failure()
    clock.now += 4.9
    with pytest.raises(CircuitOpenError):
        b.acquire()
    clock.now += 0.1
    assert b.state is CircuitState.half_open
    b.acquire()  # the probe
    with pytest.raises(CircuitOpenError):
        b.acquire()  # only one probe at a time
    b.failure()  # the probe failed: open for another cool-down
    assert b.state is CircuitState.open and b.retry_in() == 5.0
    clock.now += 5.0
    b.acquire()
    b.success()
    assert b.state is CircuitState.closed
    assert changes == [CircuitState.open, CircuitState.half_open, CircuitState.open, CircuitState.half_open,
                       CircuitState.closed]  # fmt: skip


def test_a_cancelled_probe_frees_the_slot_without_deciding() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.acquire()
        b.failure()
    clock.now += 5
    b.acquire()
    b.release()
    assert b.state is CircuitState.half_open
    b.acquire()  # another probe may go


def test_retry_delays_are_full_jitter_capped_and_within_the_deadline() -> None:
    draws = iter([0.5, 1.0, 0.999])
    policy = RetryPolicy(attempts=3, base_delay=0.1, max_delay=0.15, random=lambda: next(draws))
    assert policy.delay(0) == pytest.approx(0.05)  # 0.1 * 0.5
    assert policy.delay(1) == pytest.approx(0.15)  # min(0.15, 0.2) * 1.0
    fixed = RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0, random=lambda: 1.0)
    assert fixed.next_delay(1, remaining=5.0) == pytest.approx(0.1)
    assert fixed.next_delay(2, remaining=5.0) == pytest.approx(0.2)
    assert fixed.next_delay(3, remaining=5.0) is None  # no attempt left
    assert fixed.next_delay(1, remaining=0.15) is None  # the pause and another try do not fit
    assert RetryPolicy(attempts=1).next_delay(1, remaining=5.0) is None


# --- an upstream with them ---------------------------------------------------------------------------


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[str, Counter[str]]]:
    """``/v1/flaky`` answers 503 twice, then 200; every call counted by method and path."""
    calls: Counter[str] = Counter()
    app = FastAPI()

    @app.api_route("/v1/{path:path}", methods=["GET", "POST", "DELETE"])
    async def any_call(path: str, request: Request) -> Response:
        name = path.rsplit("/", 1)[-1]
        calls[f"{request.method} {name}"] += 1
        if name == "flaky" and calls[f"{request.method} {name}"] <= 2:
            return Response(status_code=503)
        return Response(b"{}", media_type="application/json")

    async with serve_here(app) as url:
        yield url, calls


def upstream(url: str, client: str = "aiohttp", **policy: Any) -> Upstream:
    u = make_upstream(client, "cadres", url, timeout=2.0)
    u.configure(
        breaker=CircuitBreaker("cadres", failure_threshold=2, reset_timeout=60),
        retry_policy=RetryPolicy(**{"attempts": 3, "base_delay": 0.001, "max_delay": 0.002, **policy}),
    )
    return u


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
async def test_reads_are_retried_on_503_and_writes_are_not(
    flaky: tuple[str, Counter[str]], client: str
) -> None:
    url, calls = flaky
    u = upstream(url, client)
    try:
        read = await u.request("GET", "/v1/flaky", headers=[])
        assert read.status == 200 and calls["GET flaky"] == 3
        write = await u.request("POST", "/v1/flaky", headers=[], body=b"{}")
        assert write.status == 503 and calls["POST flaky"] == 1
        exhausted = upstream(url, client, attempts=2)
        calls.clear()
        assert (await exhausted.request("GET", "/v1/flaky", headers=[])).status == 503
        assert calls["GET flaky"] == 2
        await exhausted.aclose()
    finally:
        await u.aclose()


async def test_a_refused_read_is_retried_then_the_circuit_opens_and_fails_fast() -> None:
    u = upstream(f"http://127.0.0.1:{free_port()}", attempts=2)
    try:
        with pytest.raises(UpstreamUnavailable) as first:
            await u.request("GET", "/v1/x", headers=[])
        assert not isinstance(first.value, UpstreamCircuitOpen)
        assert u.breaker is not None and u.breaker.state is CircuitState.open  # two failed attempts
        with pytest.raises(UpstreamCircuitOpen):
            await u.request("POST", "/v1/x", headers=[], body=b"{}")
    finally:
        await u.aclose()


async def test_the_gateway_forwards_a_write_once_and_retries_a_read(
    flaky: tuple[str, Counter[str]], make_gateway: GatewayFactory
) -> None:
    url, calls = flaky
    async with make_gateway(urls={"orgs": url}, gateway_retry_backoff=0.001) as gateway:
        posted = await gateway.post("/api/v1/organizations/flaky", json={})
        assert posted.status_code == 503 and calls["POST flaky"] == 1
        read = await gateway.get("/api/v1/organizations/flaky")
        assert read.status_code == 200 and calls["GET flaky"] == 3
        metrics = (await gateway.get("/metrics")).text
    assert "tochuc_gateway_upstream_retries_total" in metrics
