"""Request ids, metrics and the access log of the gateway, in one pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) because it runs on every forwarded call and must stay cheap.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.resilience import CircuitState
from shared.logs import request_id_var, traceparent_var
from shared.problems import problem_body

log = logging.getLogger("tochuc.gateway")

# Where handlers leave what the middleware reports: the route label and the upstream call's outcome.
ROUTE_KEY = "tochuc.route"
UPSTREAM_KEY = "tochuc.upstream"

# A client's request id is kept if it is a plain token of reasonable length; anything else is replaced,
# so that logs and upstream headers never carry arbitrary text.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """The gateway's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tochuc_gateway_http_requests",
            "Requests answered by the gateway.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "tochuc_gateway_http_request_duration_seconds",
            "Time from receiving a request to the end of its answer.",
            ["route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "tochuc_gateway_upstream_request_duration_seconds",
            "Time of the gateway's calls to the services, by outcome (status class, timeout, unavailable).",
            ["service", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.circuit_state = Gauge(
            "tochuc_gateway_circuit_state",
            "Circuit breaker of each service: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=self.registry,
        )
        self.circuit_transitions = Counter(
            "tochuc_gateway_circuit_transitions",
            "Changes of a service's circuit breaker, by the state entered.",
            ["service", "state"],
            registry=self.registry,
        )
        self.circuit_rejected = Counter(
            "tochuc_gateway_circuit_rejected",
            "Calls not attempted because the service's circuit was open (failed fast).",
            ["service"],
            registry=self.registry,
        )
        self.upstream_retries = Counter(
            "tochuc_gateway_upstream_retries",
            "Retries of idempotent reads, by reason (unavailable: no connection; 503).",
            ["service", "reason"],
            registry=self.registry,
        )
        self.composed_parts = Counter(
            "tochuc_gateway_composed_parts",
            "Parts of composed answers by view, service, outcome (ok, absent, timeout, unavailable, error)",
            ["view", "service", "outcome"],
            registry=self.registry,
        )

    # --- gateway.upstream.UpstreamObserver ---

    def retried(self, service: str, reason: str) -> None:
        self.upstream_retries.labels(service, reason).inc()

    def rejected(self, service: str) -> None:
        self.circuit_rejected.labels(service).inc()

    def circuit_changed(self, service: str, state: CircuitState) -> None:
        self.circuit_state.labels(service).set(int(state))
        self.circuit_transitions.labels(service, state.name).inc()


def route_label(scope: Scope) -> str:
    label = scope.get(ROUTE_KEY)
    if label is not None:
        return str(label)
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Accepts or generates ``X-Request-ID``, echoes it, sets ``Server-Timing: gateway;dur=<ms>`` (the time
    from the request's arrival here to the answer's head; a service's own ``Server-Timing`` is not passed
    on), records metrics and logs one line per request."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id: str | None = None
        traceparent: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        if request_id is None:
            request_id = uuid.uuid4().hex
        request_id_var.set(request_id)
        traceparent_var.set(traceparent)
        encoded_id = request_id.encode("latin-1")
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", ())
                    if k not in (b"x-request-id", b"server-timing")
                ]
                headers.append((b"x-request-id", encoded_id))
                # The gateway's own time to the answer's head (W3C Server Timing), from the request's arrival
                # in the app: what the client's clock cannot separate from its own scheduling and transport.
                spent = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", b"gateway;dur=%.1f" % spent))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Logged here with the request id; the client gets a problem, never a trace.
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status = 500
            if not response_started:
                await _send_internal_error(scope, send, encoded_id)
        finally:
            self._report(scope, status, time.perf_counter() - started)

    def _report(self, scope: Scope, status: int, elapsed: float) -> None:
        route = route_label(scope)
        status_text = str(status)
        self.metrics.requests.labels(scope["method"], route, status_text).inc()
        self.metrics.request_duration.labels(route, status_text).observe(elapsed)
        level = logging.WARNING if status >= 500 else logging.INFO  # 502/504: a service is in trouble
        if log.isEnabledFor(level):
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            }
            upstream = scope.get(UPSTREAM_KEY)
            if upstream is not None:
                fields["upstream"], fields["upstream_outcome"] = upstream
            log.log(level, "request", extra={"fields": fields})


async def _send_internal_error(scope: Scope, send: Send, request_id: bytes) -> None:
    body = problem_body(
        None,
        500,
        "Internal server error",
        "An unexpected error occurred; it has been logged.",
        None,
        {"instance": scope["path"]},
    )
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
