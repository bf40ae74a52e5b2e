"""Calls from the gateway to one service, through a pooled HTTP client chosen by a setting.

Each service gets one :class:`Upstream` for the life of the app (created in the lifespan). Every call has a
deadline: past it the call is abandoned and :class:`UpstreamTimeout` raised; a service that cannot be reached
raises :class:`UpstreamUnavailable`. Safe methods (GET, HEAD, OPTIONS) are retried once, within the same
deadline, when the connection failed before an answer (a stale pooled connection); writes are never retried.

Three interchangeable transports exist so that bench/gateway/bench_clients.py can measure them on the same
gateway code: raw aiohttp (the default), httpx with its own pool (httpcore), and httpx over aiohttp
(``httpx-aiohttp``).
"""

from __future__ import annotations

import abc
import asyncio
import http.cookiejar
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport

from gateway.resilience import NO_RETRY, CircuitBreaker, CircuitOpenError, RetryPolicy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Headers = list[tuple[str, str]]


class UpstreamError(Exception):
    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


class UpstreamTimeout(UpstreamError):
    """The service did not answer within the deadline (the gateway answers 504)."""


class UpstreamUnavailable(UpstreamError):
    """The service could not be reached or dropped the connection (the gateway answers 502)."""


class UpstreamCircuitOpen(UpstreamUnavailable):
    """The service's circuit is open: the call was not attempted (the gateway answers 502 at once)."""


class UpstreamObserver(Protocol):
    """Where an upstream reports what its resilience did (the gateway's metrics)."""

    def retried(self, service: str, reason: str) -> None: ...

    def rejected(self, service: str) -> None: ...


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: Headers  # only the names asked for, lower-case
    body: bytes


class Upstream(abc.ABC):
    """One service's client: ``request()`` with a deadline and error classification; ``aclose()``."""

    client_name: str

    def __init__(self, service: str, base_url: str, *, timeout: float) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.breaker: CircuitBreaker | None = None
        self.retry_policy: RetryPolicy = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0)
        self.observer: UpstreamObserver | None = None

    def configure(
        self,
        *,
        breaker: CircuitBreaker | None,
        retry_policy: RetryPolicy,
        observer: UpstreamObserver | None = None,
    ) -> None:
        """Resilience of this upstream (set once by the app's lifespan, before the first call)."""
        self.breaker = breaker
        self.retry_policy = retry_policy
        self.observer = observer

    async def request(
        self,
        method: str,
        target: str,
        *,
        headers: Headers,
        body: bytes | None = None,
        want_headers: Iterable[str] = (),
        deadline: float | None = None,
        retry: bool = True,
    ) -> UpstreamResponse:
        """Send ``method target`` (``target`` is the already-encoded path and query, starting with ``/``).

        Only the response headers named in ``want_headers`` (lower-case) are returned. ``retry=False``
        makes even a read single-shot (readiness probes). Raises :class:`UpstreamTimeout`,
        :class:`UpstreamUnavailable` (or its :class:`UpstreamCircuitOpen`), never anything else.
        """
        seconds = self.timeout if deadline is None else deadline
        url = self.base_url + target
        wanted = tuple(want_headers)
        policy = self.retry_policy if retry and method in SAFE_METHODS else NO_RETRY
        breaker = self.breaker
        started = time.monotonic()
        sending = False
        attempts = 0
        try:
            async with asyncio.timeout(seconds):
                while True:
                    if breaker is not None:
                        try:
                            breaker.acquire()
                        except CircuitOpenError as exc:
                            if self.observer is not None:
                                self.observer.rejected(self.service)
                            detail = f"circuit open (next probe in {exc.retry_in:.1f} s)"
                            raise UpstreamCircuitOpen(self.service, detail) from None
                    attempts += 1
                    sending = True
                    try:
                        answer = await self._send(method, url, headers, body, wanted)
                    except Exception as exc:
                        sending = False
                        error = exc if isinstance(exc, UpstreamError) else self._classify(exc)
                        if breaker is not None:
                            breaker.failure()
                        if isinstance(error, UpstreamUnavailable):
                            pause = policy.next_delay(attempts, seconds - (time.monotonic() - started))
                            if pause is not None:
                                self._retrying("unavailable")
                                await asyncio.sleep(pause)
                                continue
                        raise error from exc
                    except BaseException:  # cancelled: the deadline passed, or the caller went away
                        if breaker is not None:
                            breaker.release()
                        raise
                    sending = False
                    if breaker is not None:
                        breaker.success()
                    if answer.status == 503:
                        pause = policy.next_delay(attempts, seconds - (time.monotonic() - started))
                        if pause is not None:
                            self._retrying("503")
                            await asyncio.sleep(pause)
                            continue
                    return answer
        except TimeoutError:
            if sending and breaker is not None:
                breaker.failure()  # a service that hangs is as broken as one that refuses
            elapsed = time.monotonic() - started
            raise UpstreamTimeout(self.service, f"no answer within {elapsed:.1f} s") from None

    def _retrying(self, reason: str) -> None:
        if self.observer is not None:
            self.observer.retried(self.service, reason)

    @abc.abstractmethod
    async def _send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        wanted: tuple[str, ...],
    ) -> UpstreamResponse: ...

    @abc.abstractmethod
    def _classify(self, exc: Exception) -> UpstreamError: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...


def _classify_aiohttp(service: str, exc: BaseException) -> UpstreamError:
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return UpstreamTimeout(service, "no answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnavailable(service, f"cannot connect ({exc.os_error.strerror or exc.os_error})")
    if isinstance(exc, aiohttp.ClientError):
        return UpstreamUnavailable(service, f"connection failed ({type(exc).__name__})")
    return UpstreamUnavailable(service, f"call failed ({type(exc).__name__})")


def _aiohttp_session(*, max_connections: int, keepalive: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, keepalive_timeout=keepalive)
    session = aiohttp.ClientSession(
        connector=connector,
        # The gateway forwards many users' calls: it must never keep a cookie from one answer for another.
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),  # the deadline is enforced around the whole call
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
    )
    # aiohttp silently resends PUT and DELETE on a reused connection that the server closed; the gateway
    # never retries a write, and retries safe methods itself (Upstream.request). No public switch exists.
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


class AiohttpUpstream(Upstream):
    client_name = "aiohttp"

    def __init__(
        self, service: str, base_url: str, *, timeout: float, max_connections: int, keepalive: float
    ) -> None:
        super().__init__(service, base_url, timeout=timeout)
        self._session = _aiohttp_session(max_connections=max_connections, keepalive=keepalive)

    async def _send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        wanted: tuple[str, ...],
    ) -> UpstreamResponse:
        # The target comes from the client's request line, already percent-encoded: keep it byte for byte.
        async with self._session.request(
            method, yarl.URL(url, encoded=True), headers=headers, data=body, allow_redirects=False
        ) as response:
            content = await response.read()
            found = response.headers
            picked = [(name, value) for name in wanted for value in found.getall(name, ())]
            return UpstreamResponse(response.status, picked, content)

    def _classify(self, exc: Exception) -> UpstreamError:
        return _classify_aiohttp(self.service, exc)

    async def aclose(self) -> None:
        await self._session.close()


def _no_cookies() -> httpx.Cookies:
    policy = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])  # refuses every cookie
    return httpx.Cookies(http.cookiejar.CookieJar(policy=policy))


class HttpxUpstream(Upstream):
    """httpx.AsyncClient with its default transport (httpcore's pool)."""

    client_name = "httpx"

    def __init__(
        self, service: str, base_url: str, *, timeout: float, max_connections: int, keepalive: float
    ) -> None:
        super().__init__(service, base_url, timeout=timeout)
        self._client = self._make_client(
            timeout=timeout, max_connections=max_connections, keepalive=keepalive
        )

    def _make_client(self, *, timeout: float, max_connections: int, keepalive: float) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive,
        )
        return httpx.AsyncClient(
            limits=limits,
            timeout=httpx.Timeout(timeout),
            cookies=_no_cookies(),
            headers={"accept-encoding": "identity"},
            trust_env=False,
        )

    async def _send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        wanted: tuple[str, ...],
    ) -> UpstreamResponse:
        request = self._client.build_request(method, url, headers=headers, content=body)
        response = await self._client.send(request)
        found = response.headers
        picked = [(name, value) for name in wanted for value in found.get_list(name)]
        return UpstreamResponse(response.status_code, picked, response.content)

    def _classify(self, exc: Exception) -> UpstreamError:
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamTimeout(self.service, "no answer in time")
        if isinstance(exc, httpx.ConnectError):
            return UpstreamUnavailable(self.service, f"cannot connect ({exc})")
        return UpstreamUnavailable(self.service, f"connection failed ({type(exc).__name__})")

    async def aclose(self) -> None:
        await self._client.aclose()


class HttpxAiohttpUpstream(HttpxUpstream):
    """httpx's API over an aiohttp session (``httpx_aiohttp.AiohttpTransport``)."""

    client_name = "httpx-aiohttp"

    def _make_client(self, *, timeout: float, max_connections: int, keepalive: float) -> httpx.AsyncClient:
        session = _aiohttp_session(max_connections=max_connections, keepalive=keepalive)
        return httpx.AsyncClient(
            transport=AiohttpTransport(client=session),
            timeout=httpx.Timeout(timeout),
            cookies=_no_cookies(),
            headers={"accept-encoding": "identity"},
            trust_env=False,
        )

    def _classify(self, exc: Exception) -> UpstreamError:
        # httpx-aiohttp maps aiohttp's errors onto httpx's, but a refused connection comes out as
        # httpx.ConnectTimeout (ClientConnectorError is also a ClientConnectionError, mapped first):
        # classify by the aiohttp error underneath instead.
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientError | asyncio.TimeoutError):
            return _classify_aiohttp(self.service, cause)
        return super()._classify(exc)


_CLIENTS: dict[str, type[Upstream]] = {
    "aiohttp": AiohttpUpstream,
    "httpx": HttpxUpstream,
    "httpx-aiohttp": HttpxAiohttpUpstream,
}


def make_upstream(
    client: str,
    service: str,
    base_url: str,
    *,
    timeout: float,
    max_connections: int = 100,
    keepalive: float = 4.0,
) -> Upstream:
    """An :class:`Upstream` of the named client kind; call inside a running event loop."""
    try:
        kind = _CLIENTS[client]
    except KeyError:
        raise ValueError(f"unknown HTTP client {client!r}; choose one of {sorted(_CLIENTS)}") from None
    return kind(service, base_url, timeout=timeout, max_connections=max_connections, keepalive=keepalive)  # type: ignore[call-arg]
