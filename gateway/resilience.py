"""How the gateway behaves when a service is slow or gone: a circuit breaker per service and a retry policy.

* **Circuit breaker** (one per service, shared by every call to it): after ``failure_threshold`` consecutive
  failures (the service could not be reached, or did not answer within the call's deadline) it *opens*:
  calls fail at once with :class:`CircuitOpen` (an ``unavailable`` outcome) and cost no waiting. After
  ``reset_timeout`` seconds one call is let through as a probe (*half-open*); its success closes the
  circuit, its failure opens it again for another ``reset_timeout``. Any HTTP answer, even a 5xx, is a
  success for the breaker: the service is alive and answering, which is what the breaker protects against.
* **Retry policy**: only idempotent reads are retried, only after a connection failure or a 503, at most
  ``attempts`` times in all, with full-jitter exponential back-off, and only while the call's deadline
  leaves room for the pause. Writes are never retried.

Clock and random source are injected so that tests drive them deterministically. Everything runs on one
event loop: no locks are needed.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class CircuitState(enum.IntEnum):
    """The values are those of the ``tochuc_gateway_circuit_state`` gauge."""

    closed = 0
    half_open = 1
    open = 2


class CircuitOpenError(Exception):
    """Raised by :meth:`CircuitBreaker.acquire` when the call must not be attempted."""

    def __init__(self, service: str, retry_in: float) -> None:
        super().__init__(f"{service}: circuit open")
        self.service = service
        self.retry_in = retry_in


class CircuitBreaker:
    """Consecutive-failure breaker with a single half-open probe."""

    def __init__(
        self,
        service: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.service = service
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.closed
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        """The state as a caller would find it now (an open circuit past its cool-down reads half-open)."""
        if self._state is CircuitState.open and self.retry_in() == 0.0:
            return CircuitState.half_open
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when it would now)."""
        if self._state is not CircuitState.open:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout - self._clock())

    def acquire(self) -> None:
        """Ask to make a call; raises :class:`CircuitOpenError` when it must fail fast instead.

        Every successful ``acquire`` is followed by exactly one of ``success``, ``failure`` or ``release``.
        """
        if self._state is CircuitState.open:
            wait = self.retry_in()
            if wait > 0:
                raise CircuitOpenError(self.service, wait)
            self._set(CircuitState.half_open)
        if self._state is CircuitState.half_open:
            if self._probing:
                raise CircuitOpenError(self.service, 0.0)
            self._probing = True

    def success(self) -> None:
        self._failures = 0
        self._probing = False
        if self._state is not CircuitState.closed:
            self._set(CircuitState.closed)

    def failure(self) -> None:
        self._probing = False
        if self._state is CircuitState.half_open:
            self._trip()
        elif self._state is CircuitState.closed:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._trip()
        # Already open: a call that started before the circuit opened changes nothing.

    def release(self) -> None:
        """The call ended without an outcome (cancelled): free the probe slot, count nothing."""
        self._probing = False

    def _trip(self) -> None:
        self._opened_at = self._clock()
        self._set(CircuitState.open)

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if self._on_change is not None:
            self._on_change(self.service, state)


@dataclass(frozen=True)
class RetryPolicy:
    """Limited retries with full-jitter exponential back-off (AWS architecture blog's "full jitter")."""

    attempts: int = 3  # in all, the first included; 1 = never retry
    base_delay: float = 0.025
    max_delay: float = 0.25
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, retry: int) -> float:
        """The pause before retry number ``retry`` (0 for the first retry): uniform in [0, cap)."""
        cap = min(self.max_delay, self.base_delay * (2**retry))
        return cap * self.random()

    def next_delay(self, attempts_made: int, remaining: float) -> float | None:
        """The pause before another attempt, or None when no attempt is left or the deadline is too close."""
        if attempts_made >= self.attempts:
            return None
        pause = self.delay(attempts_made - 1)
        # Leave the next attempt some of the deadline: a retry that is sure to time out is only load.
        if pause + self.base_delay >= remaining:
            return None
        return pause


NO_RETRY = RetryPolicy(attempts=1)
