"""Gateway settings: the common ones plus how the gateway talks to the services."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.settings import CommonSettings

HttpClientName = Literal["aiohttp", "httpx", "httpx-aiohttp"]


class GatewaySettings(CommonSettings):
    """``TOCHUC_GATEWAY_*`` variables; everything else comes from :class:`CommonSettings`."""

    # Which HTTP client forwards calls to the services. aiohttp is the default because it costs the
    # gateway the least CPU per call (see bench/gateway/bench_clients.py); the others stay selectable
    # so the benchmark can compare them on the same gateway code.
    gateway_http_client: HttpClientName = "aiohttp"
    # Connections kept per service; beyond it calls queue (within their deadline).
    gateway_max_connections: int = Field(default=100, ge=1)
    # Seconds a pooled connection may stay idle. Kept below uvicorn's default keep-alive (5 s) so the
    # gateway never reuses a connection the service is about to close.
    gateway_keepalive: float = Field(default=4.0, gt=0)
    # How long the merged OpenAPI document is kept before the services' documents are fetched again.
    gateway_openapi_ttl: float = Field(default=60.0, ge=0)
    # Composed endpoints (profile, overview, sector report): each call to a service has its own deadline.
    # The part the answer is about (the cadre, the organization) may take longer than the optional parts,
    # which are dropped (null, ``partial: true``) rather than waited for: a page without its training
    # panel is better than a page that hangs (Google's microservices-demo).
    gateway_main_deadline: float = Field(default=3.0, gt=0)
    gateway_part_deadline: float = Field(default=1.0, gt=0)
    # The sector report's sections aggregate a whole subtree over a period: a longer deadline of their own.
    gateway_report_deadline: float = Field(default=10.0, gt=0)
    # At most this many concurrent look-ups (e.g. organization names) per composed request.
    gateway_lookup_concurrency: int = Field(default=8, ge=1, le=100)
    # Circuit breaker per service: open after this many consecutive failures (no answer or no connection),
    # let one probe through after the cool-down (seconds). See docs/adr/0005-gateway-breaker-and-retries.md.
    gateway_breaker_failures: int = Field(default=5, ge=1)
    gateway_breaker_reset: float = Field(default=5.0, gt=0)
    # Reads (GET) only: attempts in all after a connection failure or a 503, and the back-off (seconds):
    # full jitter, base doubling per retry up to the maximum, always within the call's deadline.
    gateway_retry_attempts: int = Field(default=3, ge=1, le=10)
    gateway_retry_backoff: float = Field(default=0.025, ge=0)
    gateway_retry_backoff_max: float = Field(default=0.25, ge=0)
    # The services deployed behind this gateway (``TOCHUC_SERVICES``). Paths of the others answer 404 and
    # readiness does not report them; the embedded stack sets it to the services it started.
    services: str = "orgs,cadres,training"

    @property
    def service_list(self) -> list[str]:
        return [s.strip() for s in self.services.split(",") if s.strip()]

    @classmethod
    def from_common(cls, settings: CommonSettings | None) -> GatewaySettings:
        """Gateway settings from given common settings; gateway-only fields come from the environment."""
        if settings is None:
            return cls()
        if isinstance(settings, GatewaySettings):
            return settings
        return cls(**settings.model_dump())
