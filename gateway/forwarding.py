"""Forwarding ``/api/v1/...`` to the owning service's ``/v1/...``: the gateway's catch-all route.

The request body (≤ 1 MiB) and the service's answer are read whole: the deadline then covers the whole call,
and a service that stalls mid-answer still yields a clean 504 instead of a truncated body.

:class:`ForwardingShortcut` sends a request that no gateway route of its own answers straight to the
forwarding endpoint, past the router and the exception and exit-stack layers: they cost a forwarded call about
a third of the gateway's CPU and do nothing for it (the request-context middleware outside it still logs,
measures and turns an unexpected error into a problem).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from time import perf_counter as _now

from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.observability import ROUTE_KEY, UPSTREAM_KEY, GatewayMetrics
from gateway.routes import RouteTable
from gateway.upstream import Upstream, UpstreamError, UpstreamTimeout
from shared.logs import request_id_var
from shared.problems import problem_response

API_PREFIX = "/api"
MAX_BODY_BYTES = 1024 * 1024
FORWARDED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # HEAD comes with GET
_SHORTCUT_METHODS = frozenset([*FORWARDED_METHODS, "HEAD"])

# Request headers passed to the service (Starlette gives them lower-case). X-Request-ID is set separately.
REQUEST_HEADERS = frozenset(
    {
        "authorization",  # verbatim: every service verifies the caller's token itself
        "content-type",
        "accept",
        "accept-language",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "traceparent",
        "tracestate",
    }
)
# Response headers passed back to the client. X-Request-ID is echoed by the request-context middleware.
RESPONSE_HEADERS = (
    "content-type",
    "etag",
    "location",
    "www-authenticate",
    "cache-control",
    "x-content-type-options",
    "content-disposition",
    "retry-after",
)


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when there is none; BodyTooLarge past MAX_BODY_BYTES (read no further)."""
    length = request.headers.get("content-length")
    if length is None and "transfer-encoding" not in request.headers:
        return None
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks) if size else None


def service_location(location: str, base_url: str) -> str:
    """A service's ``Location`` as the client must follow it: through the gateway, under ``/api``."""
    if location.startswith(base_url + "/v1/"):
        location = location[len(base_url) :]
    if location.startswith("/v1/"):
        return API_PREFIX + location
    return location


def _outcome(status: int) -> str:
    return f"{status // 100}xx"


def make_forwarding_route(table: RouteTable, metrics: GatewayMetrics) -> Route:
    upstream_seconds = metrics.upstream_duration

    async def forward(request: Request) -> Response:
        scope = request.scope
        path: str = scope["path"]
        rule = table.match(path[len(API_PREFIX) :])
        if rule is None:
            return problem_response(request, 404, "No such endpoint.", slug="not-found")
        scope[ROUTE_KEY] = rule.label
        upstreams: dict[str, Upstream] = request.app.state.upstreams
        upstream = upstreams[rule.service]

        try:
            body = await _read_body(request)
        except BodyTooLarge:
            return problem_response(
                request, 413, f"The body exceeds {MAX_BODY_BYTES} bytes.", slug="content-too-large"
            )

        headers = [(name, value) for name, value in request.headers.items() if name in REQUEST_HEADERS]
        headers.append(("x-request-id", request_id_var.get() or ""))
        raw_path: bytes = scope.get("raw_path") or path.encode()
        target = raw_path[len(API_PREFIX) :].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")

        started = _now()
        try:
            answer = await upstream.request(
                request.method, target, headers=headers, body=body, want_headers=RESPONSE_HEADERS
            )
        except UpstreamError as error:
            timed_out = isinstance(error, UpstreamTimeout)
            outcome = "timeout" if timed_out else "unavailable"
            upstream_seconds.labels(rule.service, outcome).observe(_now() - started)
            scope[UPSTREAM_KEY] = (rule.service, outcome)
            if timed_out:
                detail = f"The {rule.service} service did not answer within {upstream.timeout:g} s."
                return problem_response(request, 504, detail, slug="upstream-timeout", service=rule.service)
            detail = f"The {rule.service} service is unavailable."
            return problem_response(request, 502, detail, slug="upstream-unavailable", service=rule.service)

        outcome = _outcome(answer.status)
        upstream_seconds.labels(rule.service, outcome).observe(_now() - started)
        scope[UPSTREAM_KEY] = (rule.service, outcome)
        response = Response(answer.body, status_code=answer.status)
        for name, value in answer.headers:
            if name == "location":
                value = service_location(value, upstream.base_url)
            response.headers.append(name, value)
        return response

    return Route(API_PREFIX + "/v1/{path:path}", forward, methods=FORWARDED_METHODS, include_in_schema=False)


class ForwardingShortcut:
    """ASGI middleware: a forwarded request goes straight to the forwarding endpoint.

    ``own_routes`` are the gateway's routes (composed views, health, OpenAPI): a path one of them matches
    goes through the app as usual, and so does anything outside ``/api/v1/`` or with a method not forwarded.
    """

    def __init__(self, app: ASGIApp, *, forwarding: Route, own_routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self._forward = forwarding.endpoint
        prefix = API_PREFIX + "/v1/"
        # Every route's effective path, included routers' too (FastAPI keeps those unflattened).
        self._own: list[re.Pattern[str]] = [
            compile_path(context.path)[0]
            for context in iter_route_contexts(list(own_routes))
            if context.original_route is not forwarding and (context.path or "").startswith(prefix)
        ]
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _SHORTCUT_METHODS
            and scope["path"].startswith(self._prefix)
            and not any(pattern.match(scope["path"]) for pattern in self._own)
        ):
            response = await self._forward(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
