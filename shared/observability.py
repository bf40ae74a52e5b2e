"""Request context, limits, metrics and health for every HTTP app of the system.

:class:`RequestContextMiddleware` (pure ASGI, so it costs little per request): accepts or generates
``X-Request-ID`` and echoes it, keeps ``traceparent`` for outgoing calls and events, refuses bodies over
1 MiB with 413, adds ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store`` (answers carry
personal data), counts and times requests by route template, and writes one JSON access-log line.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import request_id_var, traceparent_var
from shared.problems import PROBLEM_JSON, problem_body

MAX_BODY_BYTES = 1024 * 1024
HEALTH_JSON = "application/health+json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("tochuc.access")


class BodyTooLarge(Exception):
    pass


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry, prefix: str = "tochuc_http") -> None:
        self.requests = Counter(
            f"{prefix}_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            f"{prefix}_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(headers.get("traceparent"))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                extra = [(b"x-request-id", request_id.encode()), (b"x-content-type-options", b"nosniff")]
                existing = {k.lower() for k, _ in message.get("headers", [])}
                if b"cache-control" not in existing:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                raise BodyTooLarge
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        raise BodyTooLarge
                return message

            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if response_started:
                raise
            body = problem_body(
                None,
                413,
                "Content too large",
                f"The request body exceeds {self.max_body} bytes.",
                "content-too-large",
            )
            body["instance"] = scope.get("path", "")
            await JSONResponse(body, status_code=413, media_type=PROBLEM_JSON)(
                scope, receive, send_with_headers
            )
        except Exception:
            # Unexpected errors are answered here, inside the request context, so the 500 problem carries
            # the request id (Starlette's outermost error middleware runs after the context is gone).
            if response_started:
                raise
            access_log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            body = problem_body(
                None, 500, "Internal server error", "An unexpected error occurred; it has been logged.", None
            )
            body["instance"] = scope.get("path", "")
            await JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)(
                scope, receive, send_with_headers
            )
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if not scope.get("path", "").startswith(("/health", "/metrics")):
                access_log.info(
                    "%s %s %s",
                    method,
                    scope.get("path"),
                    status,
                    extra={
                        "fields": {
                            "method": method,
                            "path": scope.get("path"),
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                        }
                    },
                )
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)


# ----------------------------------------------------------------------------------------------- health


@dataclass
class CheckResult:
    """One entry of the IETF health-check draft's ``checks`` map."""

    name: str  # "component:measurement", e.g. "database:responseTime"
    status: str  # pass | warn | fail
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": self.status,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self.observed_value is not None:
            entry["observedValue"] = self.observed_value
        if self.observed_unit:
            entry["observedUnit"] = self.observed_unit
        if self.output:
            entry["output"] = self.output
        entry.update(self.extra)
        return entry


HealthCheck = Callable[[Request], Awaitable[list[CheckResult]]]
_RANK = {"pass": 0, "warn": 1, "fail": 2}


def health_router(
    *, service_id: str, version: str, checks: list[HealthCheck], registry: CollectorRegistry
) -> APIRouter:
    """``/health/live`` (touches nothing), ``/health/ready`` (health+json; 503 on fail) and ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", operation_id="health_live", response_class=Response)
    async def live() -> Response:
        return Response('{"status":"pass"}', media_type=HEALTH_JSON)

    @router.get("/health/ready", operation_id="health_ready", response_class=Response)
    async def ready(request: Request) -> Response:
        results: list[CheckResult] = []
        for check in checks:
            try:
                results.extend(await check(request))
            except Exception as exc:  # a failing probe is a failed check, not a 500
                results.append(CheckResult(getattr(check, "__name__", "check"), "fail", output=str(exc)))
        overall = max((r.status for r in results), key=_RANK.__getitem__, default="pass")
        body = {
            "status": overall,
            "version": version,
            "serviceId": service_id,
            "checks": _group(results),
        }
        import json

        return Response(
            json.dumps(body), status_code=503 if overall == "fail" else 200, media_type=HEALTH_JSON
        )

    @router.get("/metrics", operation_id="metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _group(results: list[CheckResult]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        grouped.setdefault(r.name, []).append(r.as_json())
    return grouped
