"""Configuration from the environment only (twelve-factor).

The variables named in the specification (``TOCHUC_*``, ``<SERVICE>_DATABASE_URL``) are the public contract;
``TOCHUC_ENV=production`` refuses every development default that would be unsafe there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS: dict[str, int] = {"gateway": 8000, "orgs": 8001, "cadres": 8002, "training": 8003}

# What one process of a service does (``TOCHUC_ROLES``): serve the API, publish its outbox (relay), apply
# other services' events (consumers). The embedded default runs all three in one process; production may
# run them as separate Deployments. Every role serves ``/health/*`` and ``/metrics`` for its probes.
ROLES: tuple[str, ...] = ("api", "relay", "consumers")


class UnsafeConfiguration(ValueError):
    """Raised when production is asked to run on a development default."""


class CommonSettings(BaseSettings):
    """Settings every process of the system shares (env prefix ``TOCHUC_``)."""

    model_config = SettingsConfigDict(env_prefix="TOCHUC_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
    nats_url: str | None = None
    nats_port: int = 14222
    # Replicas of the streams and durable consumers: 1 on one machine, 3 on a NATS cluster.
    # ``TOCHUC_NATS_REPLICAS`` (``TOCHUC_STREAM_REPLICAS`` is accepted too).
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        validation_alias=AliasChoices("stream_replicas", "TOCHUC_NATS_REPLICAS", "TOCHUC_STREAM_REPLICAS"),
    )
    # Comma-separated roles of this process (see ``ROLES``); ``all`` = every role.
    roles: str = "api,relay,consumers"
    jwks_url: str | None = None
    jwt_issuer: str = "tochuc"
    jwt_audience: str = "tochuc"
    demo: bool = True
    cors_origins: str = ""
    log_level: str = "INFO"
    # How many seconds a gateway call to a service may take before it answers 504.
    upstream_timeout: float = Field(default=5.0, gt=0)

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or f"nats://127.0.0.1:{self.nats_port}"

    @property
    def dev_key_path(self) -> Path:
        return self.data_dir / "dev-signing.key"

    def port_of(self, service: str) -> int:
        raw = os.environ.get(f"TOCHUC_{service.upper()}_PORT")
        return int(raw) if raw else SERVICE_PORTS[service]

    def service_url(self, service: str) -> str:
        """Where a service answers; ``TOCHUC_<SERVICE>_URL`` overrides the embedded default."""
        return os.environ.get(f"TOCHUC_{service.upper()}_URL") or f"http://127.0.0.1:{self.port_of(service)}"

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        parse_roles(value)
        return value

    @property
    def role_set(self) -> frozenset[str]:
        return parse_roles(self.roles)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> CommonSettings:
        if self.env == "production":
            problems = []
            if not self.jwks_url:
                problems.append("TOCHUC_JWKS_URL is required (the development signing key is not allowed)")
            elif not self.jwks_url.startswith(("https://", "http://")):
                problems.append("TOCHUC_JWKS_URL must be the identity provider's http(s) JWKS address")
            if not self.nats_url:
                problems.append("TOCHUC_NATS_URL is required (the embedded NATS is not allowed)")
            if problems:
                raise UnsafeConfiguration("; ".join(problems))
        return self


class ServiceSettings(CommonSettings):
    """Settings of one service: its name, port and database."""

    service: str
    port: int
    database_url: str

    @classmethod
    def load(cls, service: str, **overrides: object) -> ServiceSettings:
        common = CommonSettings(**overrides)  # type: ignore[arg-type]
        values: dict[str, object] = common.model_dump()
        values.update(overrides)
        values["service"] = service
        values.setdefault("port", common.port_of(service))
        if "database_url" not in overrides:
            values["database_url"] = os.environ.get(f"{service.upper()}_DATABASE_URL") or sqlite_url(
                common.data_dir / f"{service}.db"
            )
        return cls.model_validate(values)

    @model_validator(mode="after")
    def _refuse_sqlite_in_production(self) -> ServiceSettings:
        if self.env == "production" and not self.database_url.startswith("postgresql"):
            raise UnsafeConfiguration(f"{self.service.upper()}_DATABASE_URL must be PostgreSQL in production")
        return self


def parse_roles(text: str) -> frozenset[str]:
    """``"api,relay"`` -> {"api", "relay"}; ``"all"`` -> every role; an unknown or empty list is refused."""
    names = {part.strip().lower() for part in text.replace(" ", ",").split(",") if part.strip()}
    if "all" in names:
        names = (names - {"all"}) | set(ROLES)
    unknown = sorted(names - set(ROLES))
    if unknown:
        expected = ", ".join(ROLES)
        raise ValueError(f"TOCHUC_ROLES: unknown role {', '.join(unknown)}; expected {expected} or all")
    if not names:
        raise ValueError(f"TOCHUC_ROLES names no role; expected some of {', '.join(ROLES)} or all")
    return frozenset(names)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"
