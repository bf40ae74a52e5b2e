"""The gateway's own health and metrics endpoints.

Readiness reports each service but is not tied to them: a gateway whose services are down still answers
(502 problems, partial composed answers), so it stays in rotation — ``warn`` with the service marked, never
``fail``. A service whose circuit is open is not probed (the check answers at once, ``warn``); after the
breaker's cool-down the readiness probe may be the call that closes it again.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from gateway.upstream import Upstream, UpstreamError

HEALTH_JSON = "application/health+json"
SERVICE_ID = "gateway"
READY_CHECK_TIMEOUT = 1.0

router = APIRouter(tags=["operations"])


class HealthResponse(JSONResponse):
    media_type = HEALTH_JSON


class ServiceCheck(BaseModel):
    componentId: str  # camelCase: the IETF health-check draft's names
    componentType: str
    status: str = Field(description="pass, or warn when the service is unreachable or not ready")
    time: str
    output: str | None = None
    circuit: str | None = Field(
        default=None, description="the gateway's circuit breaker: closed, half_open, open"
    )


class Health(BaseModel):
    status: str = Field(description="pass or warn; the gateway's readiness never depends on the services'")
    version: str
    serviceId: str
    checks: dict[str, list[ServiceCheck]] | None = None


_HEALTH_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Health}}


def version() -> str:
    try:
        return metadata.version("tochuc")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def _health(body: dict[str, Any]) -> Response:
    return HealthResponse(body, headers={"Cache-Control": "no-store"})


@router.get(
    "/health/live", summary="The process answers", response_class=HealthResponse, responses=_HEALTH_DOC
)
async def live() -> Response:
    return _health({"status": "pass", "version": version(), "serviceId": SERVICE_ID})


async def _check(upstream: Upstream, seconds: float) -> dict[str, Any]:
    check: dict[str, Any] = {
        "componentId": upstream.service,
        "componentType": "component",
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        answer = await upstream.request(
            "GET",
            "/health/ready",
            headers=[("accept", HEALTH_JSON)],
            want_headers=(),
            deadline=seconds,
            retry=False,
        )
    except UpstreamError as error:
        check.update(status="warn", output=f"unreachable: {error.detail}")
        return check
    finally:
        if upstream.breaker is not None:
            check["circuit"] = upstream.breaker.state.name
    reported = None
    try:
        reported = json.loads(answer.body).get("status")
    except (ValueError, AttributeError):
        pass
    if answer.status == 200 and reported in (None, "pass"):
        check["status"] = "pass"
    else:
        check.update(status="warn", output=f"answered {answer.status} with status {reported or 'unknown'}")
    return check


@router.get(
    "/health/ready",
    summary="Readiness, with the state of each service",
    response_class=HealthResponse,
    responses=_HEALTH_DOC,
)
async def ready(request: Request) -> Response:
    upstreams: dict[str, Upstream] = request.app.state.upstreams
    timeout = min(READY_CHECK_TIMEOUT, request.app.state.settings.upstream_timeout)
    results = await asyncio.gather(*(_check(u, timeout) for u in upstreams.values()))
    checks = {f"{r['componentId']}:ready": [r] for r in results}
    status = "pass" if all(r["status"] == "pass" for r in results) else "warn"
    return _health({"status": status, "version": version(), "serviceId": SERVICE_ID, "checks": checks})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
