"""The gateway: one REST entry point (``/api/v1``) in front of the orgs, cadres and training services.

``create_app`` builds it (also a uvicorn factory: ``uvicorn --factory gateway.app:create_app``); the lifespan
owns one pooled HTTP client per service. Route order matters: the gateway's own endpoints, then composed
endpoints, then the forwarding catch-all, which must stay last.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response

from gateway import health
from gateway.composition import router as composition_router
from gateway.composition.calls import install_composition_handlers
from gateway.forwarding import API_PREFIX, ForwardingShortcut, make_forwarding_route
from gateway.observability import GatewayMetrics, RequestContextMiddleware
from gateway.openapi import OpenAPICatalog
from gateway.resilience import CircuitBreaker, RetryPolicy
from gateway.routes import ROUTES, RouteTable
from gateway.settings import GatewaySettings
from gateway.upstream import Upstream, make_upstream
from shared.logs import configure_logging
from shared.problems import install_problem_handlers
from shared.settings import CommonSettings

OPENAPI_PATH = API_PREFIX + "/openapi.json"
DOCS_PATH = API_PREFIX + "/docs"
TITLE = "tochuc API"

# Headers a browser may send and read across origins (the rest of the CORS policy: the listed origins).
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
    "traceparent",
    "tracestate",
]
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Content-Disposition",
    "X-Request-ID",
    "Retry-After",
    "Server-Timing",
]


def create_app(settings: CommonSettings | None = None) -> FastAPI:
    """The gateway; with no settings, from the environment with JSON logs (``uvicorn --factory``)."""
    if settings is None:
        configure_logging("gateway", CommonSettings().log_level)
    gateway_settings = GatewaySettings.from_common(settings)
    deployed = set(gateway_settings.service_list)
    table = RouteTable(rule for rule in ROUTES if rule.service in deployed)
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams: dict[str, Upstream] = {
            service: make_upstream(
                gateway_settings.gateway_http_client,
                service,
                gateway_settings.service_url(service),
                timeout=gateway_settings.upstream_timeout,
                max_connections=gateway_settings.gateway_max_connections,
                keepalive=gateway_settings.gateway_keepalive,
            )
            for service in table.services
        }
        for service, upstream in upstreams.items():
            upstream.configure(
                breaker=CircuitBreaker(
                    service,
                    failure_threshold=gateway_settings.gateway_breaker_failures,
                    reset_timeout=gateway_settings.gateway_breaker_reset,
                    on_change=metrics.circuit_changed,
                ),
                retry_policy=RetryPolicy(
                    attempts=gateway_settings.gateway_retry_attempts,
                    base_delay=gateway_settings.gateway_retry_backoff,
                    max_delay=gateway_settings.gateway_retry_backoff_max,
                ),
                observer=metrics,
            )
            metrics.circuit_state.labels(service).set(0)
        app.state.upstreams = upstreams
        app.state.openapi = OpenAPICatalog(
            lambda: _own_openapi(app), upstreams, table, ttl=gateway_settings.gateway_openapi_ttl
        )
        try:
            yield
        finally:
            await asyncio.gather(*(upstream.aclose() for upstream in upstreams.values()))

    app = FastAPI(
        title=TITLE,
        version=health.version(),
        lifespan=lifespan,
        openapi_url=None,  # served merged with the services' documents, below
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = gateway_settings
    app.state.metrics = metrics
    app.state.route_table = table
    install_problem_handlers(app)

    app.include_router(health.router)
    app.add_api_route(OPENAPI_PATH, _openapi_document, methods=["GET"], include_in_schema=False)
    app.add_api_route(DOCS_PATH, _swagger_ui, methods=["GET"], include_in_schema=False)
    # Composed endpoints (profile, overview, sector report), before the forwarding route, so that e.g.
    # /api/v1/cadres/{id}/profile is answered by the gateway itself.
    app.include_router(composition_router)
    install_composition_handlers(app)
    forwarding = make_forwarding_route(table, metrics)
    app.router.routes.append(forwarding)  # the catch-all: keep it last

    # Inside the request context (ids, logs, metrics, errors), so a forwarded call skips only the routing.
    app.add_middleware(ForwardingShortcut, forwarding=forwarding, own_routes=app.router.routes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if origins := gateway_settings.cors_origin_list:
        # Outermost, so that even errors answered by the inner layers carry the CORS headers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            allow_credentials=False,  # bearer tokens, no cookies
            max_age=600,
        )
    return app


def _own_openapi(app: FastAPI) -> dict[str, Any]:
    return get_openapi(
        title=TITLE,
        version=app.version,
        description="The REST API of tochuc: every service's resources under /api/v1, through the gateway.",
        routes=app.routes,
    )


async def _openapi_document(request: Request) -> Response:
    catalog: OpenAPICatalog = request.app.state.openapi
    return Response(await catalog.document_bytes(), media_type="application/json")


async def _swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{TITLE} — Swagger UI")
