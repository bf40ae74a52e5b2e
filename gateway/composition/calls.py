"""Parallel calls to the services with a deadline each, and the ``{data, partial, errors}`` bookkeeping.

A :class:`Composer` lives for one composed request. It forwards the caller's ``Authorization`` (every service
verifies the token itself and applies the caller's scope and roles), ``X-Request-ID``, ``traceparent`` and
``tracestate``. ``call()`` never raises for a service's failure: it returns an :class:`Answer` whose
``error`` says what went wrong. The view then decides:

* :meth:`Composer.main` — the part the answer is about: a 2xx gives its JSON; a 4xx is passed on to the
  client as the same problem (404 outside the caller's scope, 401, 403…); a failure is a 502 (unavailable,
  or the service answered an error) or a 504 (timeout) problem;
* :meth:`Composer.optional` — any other part: a 2xx gives its JSON; a 404 gives None (absent, not an error);
  anything else gives None and records ``{service, code}`` in ``errors`` (``partial`` becomes true).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from gateway.observability import UPSTREAM_KEY, GatewayMetrics
from gateway.settings import GatewaySettings
from gateway.upstream import Upstream, UpstreamError, UpstreamTimeout
from shared.logs import request_id_var
from shared.problems import PROBLEM_JSON, problem_response

log = logging.getLogger("tochuc.gateway.composition")

ErrorCode = Literal["timeout", "unavailable", "error"]
T = TypeVar("T")
R = TypeVar("R")

# Caller's headers passed on to every call (lower-case, as Starlette gives them).
PASSED_HEADERS = ("authorization", "traceparent", "tracestate", "accept-language")
# Personal data: never cached, never sniffed (api.md, Limits).
PERSONAL_DATA_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class PartError(BaseModel):
    service: str = Field(description="the service whose part is missing")
    code: ErrorCode = Field(
        description="timeout: no answer within the deadline; unavailable: cannot be reached (or its circuit "
        "is open); error: it answered an error"
    )
    part: str = Field(description="the field of `data` left null (or incomplete) because of it")


@dataclass(slots=True)
class Answer:
    service: str
    part: str
    status: int | None = None
    body: bytes = b""
    headers: list[tuple[str, str]] | None = None
    error: ErrorCode | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


class ComposedFailure(Exception):
    """Ends a composed request with the given response (the main part failed or was refused)."""

    def __init__(self, response: Response) -> None:
        super().__init__("composed request failed")
        self.response = response


def install_composition_handlers(app: FastAPI) -> None:
    @app.exception_handler(ComposedFailure)
    async def _failed(_request: Request, exc: ComposedFailure) -> Response:
        return exc.response


def query(**params: Any) -> str:
    """``?a=1&b=2`` of the parameters that are not None ('' when none); a list gives its name once per
    value (``?id=1&id=2``)."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((name, str(v)) for v in value)
        elif value is not None:
            pairs.append((name, str(value)))
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


class Composer:
    def __init__(self, request: Request, view: str) -> None:
        self.request = request
        self.view = view
        state = request.app.state
        self.upstreams: Mapping[str, Upstream] = state.upstreams
        self.settings: GatewaySettings = state.settings
        self.metrics: GatewayMetrics = state.metrics
        self.errors: list[PartError] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._lookups = asyncio.Semaphore(self.settings.gateway_lookup_concurrency)
        headers = [(name, value) for name, value in request.headers.items() if name in PASSED_HEADERS]
        headers.append(("accept", "application/json"))
        headers.append(("x-request-id", request_id_var.get() or ""))
        self.headers = headers
        self.started = time.perf_counter()

    @property
    def partial(self) -> bool:
        return bool(self.errors)

    # --- calls ---

    async def call(self, service: str, target: str, *, part: str, deadline: float) -> Answer:
        """GET ``target`` (``/v1/...`` with its query) on ``service`` within ``deadline`` seconds."""
        upstream = self.upstreams.get(service)
        if upstream is None:  # not deployed behind this gateway (TOCHUC_SERVICES)
            return self._observe(Answer(service, part, error="unavailable", detail="not deployed"), 0.0)
        started = time.perf_counter()
        try:
            response = await upstream.request(
                "GET", target, headers=self.headers, want_headers=("www-authenticate",), deadline=deadline
            )
        except UpstreamError as exc:
            code: ErrorCode = "timeout" if isinstance(exc, UpstreamTimeout) else "unavailable"
            answer = Answer(service, part, error=code, detail=exc.detail)
        else:
            answer = Answer(service, part, response.status, response.body, response.headers)
            if response.status >= 500:
                answer.error = "error"
        return self._observe(answer, time.perf_counter() - started)

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start a call (or a chain of calls) now; the tasks are cancelled if the main part fails."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.append(task)
        return task

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def bounded(self, items: Iterable[T], fetch: Callable[[T], Awaitable[R]]) -> list[R]:
        """``fetch`` each item concurrently, at most ``gateway_lookup_concurrency`` at a time, in order."""

        async def one(item: T) -> R:
            async with self._lookups:
                return await fetch(item)

        return list(await asyncio.gather(*(one(item) for item in items)))

    # --- outcomes ---

    def main(self, answer: Answer) -> Any:
        """The JSON of the main part, or :class:`ComposedFailure` (the other calls are cancelled)."""
        if answer.ok:
            return answer.json()
        self.cancel_all()
        self.request.scope[UPSTREAM_KEY] = (answer.service, answer.error or f"{answer.status}")
        if answer.status is not None and 400 <= answer.status < 500:
            raise ComposedFailure(self._passed_on(answer))
        if answer.error == "timeout":
            status, slug = 504, "upstream-timeout"
            detail = f"The {answer.service} service did not answer in time ({answer.part})."
        else:
            status, slug = 502, "upstream-unavailable"
            detail = f"The {answer.service} service could not give the {answer.part}."
        raise ComposedFailure(
            problem_response(self.request, status, detail, slug=slug, service=answer.service)
        )

    def optional(self, answer: Answer | None) -> Any | None:
        """The JSON of an optional part; None (recorded in ``errors`` unless it is a plain 404) otherwise."""
        if answer is None:
            return None
        if answer.ok:
            return answer.json()
        if answer.status == 404:
            return None
        self.fail(answer.service, answer.error or "error", answer.part)
        return None

    def optional_parts(self, answer: Answer | None, parts: Iterable[str]) -> Any | None:
        """As :meth:`optional`, for one call that fills several fields of ``data``: a failure is recorded
        for each of ``parts``."""
        if answer is None:
            return None
        if answer.ok:
            return answer.json()
        if answer.status != 404:
            for part in parts:
                self.fail(answer.service, answer.error or "error", part)
        return None

    def parsed_field(self, answer: Answer, value: Any, part: str, build: Callable[[Any], T]) -> T | None:
        """``value`` (one field of the JSON of ``answer``) built into the gateway's model; a value whose shape
        the gateway does not know is ``part``'s error."""
        try:
            return build(value)
        except ValidationError as exc:
            log.warning("%s answered an unexpected %s: %s", answer.service, part, exc)
            self.fail(answer.service, "error", part)
            return None

    def parsed(self, answer: Answer | None, build: Callable[[Any], T]) -> T | None:
        """An optional part built into the gateway's model: as :meth:`optional`, and an answer whose shape
        the gateway does not know (``build`` raises ``ValidationError``) is that part's ``error`` too."""
        found = self.optional(answer)
        if found is None or answer is None:
            return None
        try:
            return build(found)
        except ValidationError as exc:
            log.warning("%s answered an unexpected %s: %s", answer.service, answer.part, exc)
            self.fail(answer.service, "error", answer.part)
            return None

    def fail(self, service: str, code: ErrorCode, part: str) -> None:
        error = PartError(service=service, code=code, part=part)
        if error not in self.errors:
            self.errors.append(error)

    def respond(self, envelope: BaseModel, *, headers: Mapping[str, str] | None = None) -> Response:
        """The envelope as JSON (already validated: no second pass through the response model)."""
        return Response(
            envelope.model_dump_json(by_alias=True),
            media_type="application/json",
            headers={**PERSONAL_DATA_HEADERS, **(headers or {})},
        )

    # --- helpers ---

    def _observe(self, answer: Answer, elapsed: float) -> Answer:
        outcome: str
        if answer.error is not None:
            outcome = answer.error
        elif answer.status == 404:
            outcome = "absent"
        elif answer.ok:
            outcome = "ok"
        else:
            outcome = "error"
        self.metrics.composed_parts.labels(self.view, answer.service, outcome).inc()
        if answer.status is not None or answer.error != "unavailable" or answer.detail != "not deployed":
            label = f"{answer.status // 100}xx" if answer.status is not None else answer.error or "error"
            self.metrics.upstream_duration.labels(answer.service, label).observe(elapsed)
        return answer

    def _passed_on(self, answer: Answer) -> Response:
        """A service's 4xx problem, as the client must see it: at the gateway's path."""
        assert answer.status is not None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return problem_response(self.request, answer.status, f"The {answer.service} service refused.")
        body["instance"] = self.request.url.path
        headers = {name: value for name, value in answer.headers or () if name == "www-authenticate"}
        return JSONResponse(body, status_code=answer.status, media_type=PROBLEM_JSON, headers=headers)
