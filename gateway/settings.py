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
