"""One NATS connection per process, opened in the background so a service starts while NATS is down.

nats-py gives up reconnecting after 60 tries by default; here it never gives up
(``max_reconnect_attempts=-1``), and a failed *initial* connect is retried with back-off in a task instead
of failing the service's start-up. Workers (relay, consumers) check :attr:`NatsHandle.connected` and wait
with :meth:`NatsHandle.wait_connected`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

log = logging.getLogger(__name__)


class NatsUnavailable(RuntimeError):
    """NATS is not connected right now (the handle keeps trying)."""


class NatsHandle:
    def __init__(
        self,
        servers: str | list[str],
        *,
        name: str = "tochuc",
        connect_timeout: float = 2.0,
        reconnect_time_wait: float = 0.5,
        max_backoff: float = 5.0,
        js_timeout: float = 5.0,
    ) -> None:
        # ``nats://a:4222,nats://b:4222`` (TOCHUC_NATS_URL of a cluster) names several seed servers.
        listed = servers.split(",") if isinstance(servers, str) else list(servers)
        self.servers = [s.strip() for s in listed if s.strip()]
        self.name = name
        self._connect_timeout = connect_timeout
        self._reconnect_time_wait = reconnect_time_wait
        self._max_backoff = max_backoff
        self._js_timeout = js_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_connected: list[Callable[[], None]] = []
        self._closing = False

    # --- state ---------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NatsUnavailable("NATS is not connected yet")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NatsUnavailable("NATS is not connected yet")
        return self._js

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after the first connect and after every reconnect (e.g. wake the relay)."""
        self._on_connected.append(callback)

    async def wait_connected(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until connected (True) or ``timeout`` seconds pass (False).

        Polled: nats-py offers nothing to await for a reconnect, and 20 ms is well below any retry delay.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self.connected:
            if self._closing or (deadline is not None and loop.time() >= deadline):
                return False
            await asyncio.sleep(0.02)
        return True

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; returns at once."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._connect_forever(), name=f"nats-connect-{self.name}")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), timeout=5)

    async def _connect_forever(self) -> None:
        backoff = 0.1
        while not self._closing:
            try:
                nc = await nats.connect(
                    servers=self.servers,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self._reconnect_time_wait,
                    connect_timeout=self._connect_timeout,
                    error_cb=self._error_cb,
                    disconnected_cb=self._disconnected_cb,
                    reconnected_cb=self._reconnected_cb,
                    closed_cb=self._closed_cb,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("NATS connect failed, retrying in %.1f s: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._nc = nc
            self._js = nc.jetstream(timeout=self._js_timeout)
            log.info("NATS connected to %s", nc.connected_url.netloc if nc.connected_url else self.servers)
            self._notify()
            return

    def _notify(self) -> None:
        for callback in self._on_connected:
            try:
                callback()
            except Exception:
                log.exception("NATS on_connected callback failed")

    # nats-py calls these; with max_reconnect_attempts=-1 it keeps retrying the initial connect too, so the
    # error callback fires on every failed attempt: log quietly.
    async def _error_cb(self, exc: Exception) -> None:
        log.debug("NATS error: %s", exc)

    async def _disconnected_cb(self) -> None:
        if self._nc is not None:
            log.warning("NATS disconnected; reconnecting")

    async def _reconnected_cb(self) -> None:
        log.info("NATS reconnected")
        self._notify()

    async def _closed_cb(self) -> None:
        log.info("NATS connection closed")
