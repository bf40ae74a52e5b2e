"""The embedded stack's demo load can be stopped: Ctrl-C or SIGTERM during a long load ends it promptly."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from shared.supervisor import Supervisor, _Interrupted


def _fake(stop: threading.Event) -> Any:
    return SimpleNamespace(_stop=stop, settings=object())


async def test_a_stop_cancels_a_long_async_load() -> None:
    stop = threading.Event()
    cancelled = asyncio.Event()

    async def loader(settings: Any, url: str) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    asyncio.get_running_loop().call_later(0.3, stop.set)
    started = time.monotonic()
    with pytest.raises(_Interrupted):
        await Supervisor._until_stopped(_fake(stop), loader, "http://gw")
    assert time.monotonic() - started < 2 and cancelled.is_set()


async def test_a_load_that_ends_returns_and_a_plain_loader_runs_in_a_thread() -> None:
    calls: list[tuple[Any, str]] = []

    async def quick(settings: Any, url: str) -> None:
        calls.append((settings, url))

    def plain(settings: Any, url: str) -> None:
        assert threading.current_thread() is not threading.main_thread()
        calls.append((settings, url))

    fake = _fake(threading.Event())
    await Supervisor._until_stopped(fake, quick, "http://a")
    await Supervisor._until_stopped(fake, plain, "http://b")
    assert [url for _, url in calls] == ["http://a", "http://b"]


async def test_a_failing_load_raises_its_error() -> None:
    async def broken(settings: Any, url: str) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await Supervisor._until_stopped(_fake(threading.Event()), broken, "http://gw")


def test_the_console_echoes_warnings_and_errors_of_json_logs_not_info() -> None:
    import logging

    from shared.logs import JsonFormatter
    from shared.supervisor import _worth_echoing

    def line(level: int, message: str) -> str:
        return JsonFormatter().format(logging.LogRecord("x", level, __file__, 1, message, None, None))

    assert not _worth_echoing(line(logging.INFO, "request"))
    assert not _worth_echoing(line(logging.DEBUG, "detail"))
    assert _worth_echoing(line(logging.WARNING, "consumer retrying"))
    assert _worth_echoing(line(logging.ERROR, 'a message that says "level": "info"'))
    assert _worth_echoing("Traceback (most recent call last):")
    assert not _worth_echoing("INFO:     Application startup complete.")
