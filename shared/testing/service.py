"""Fixtures to run one service's real app in a test: its migrated database, NATS, and tokens.

The database backend follows ``TOCHUC_TEST_DB``: ``sqlite`` (default; a migrated template file copied for each
test) or ``postgresql`` (``TOCHUC_TEST_PG_URL``; one database per service created for the session by the
migrations, emptied before each test, dropped at the end).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.auth import mint_token
from shared.migrations import upgrade
from shared.settings import ServiceSettings, sqlite_url
from shared.testing.nats import NatsServer

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_backend() -> str:
    return os.environ.get("TOCHUC_TEST_DB", "sqlite")


def pg_admin_url() -> str:
    return os.environ.get("TOCHUC_TEST_PG_URL", DEFAULT_PG_URL)


def asyncpg_url(url: str, database: str | None = None) -> str:
    base = url.split("://", 1)[1]
    if database is not None:
        base = base.rsplit("/", 1)[0] + "/" + database
    return f"postgresql+asyncpg://{base}"


def _plain_pg(url: str, database: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].rsplit("/", 1)[0] + "/" + database


async def _pg_admin(statements: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_admin_url().replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class DatabaseProvider:
    """Hands each test a freshly migrated, empty database of a service."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.backend = test_backend()
        self._ready: dict[str, str] = {}  # service -> template file (sqlite) or database name (postgresql)

    def _prepare(self, service: str) -> str:
        if service in self._ready:
            return self._ready[service]
        if self.backend == "sqlite":
            template = self.root / f"{service}-template.db"
            upgrade(service, sqlite_url(template))
            self._ready[service] = str(template)
        else:
            name = f"tochuc_test_{service}_{os.getpid()}"
            asyncio.run(
                _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
            )
            upgrade(service, asyncpg_url(pg_admin_url(), name))
            self._ready[service] = name
        return self._ready[service]

    async def fresh(self, service: str, tmp_path: Path) -> str:
        prepared = await asyncio.to_thread(self._prepare, service)
        if self.backend == "sqlite":
            target = tmp_path / f"{service}.db"
            shutil.copyfile(prepared, target)
            return sqlite_url(target)
        await _truncate_all(_plain_pg(pg_admin_url(), prepared))
        return asyncpg_url(pg_admin_url(), prepared)

    def drop_all(self) -> None:
        if self.backend != "sqlite" and self._ready:
            asyncio.run(
                _pg_admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in self._ready.values()])
            )


async def _truncate_all(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            quoted = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseProvider]:
    provider = DatabaseProvider(tmp_path_factory.mktemp("db-templates"))
    yield provider
    provider.drop_all()


class AppFactory(Protocol):
    def __call__(self, settings: ServiceSettings, *, run_workers: bool = ...) -> FastAPI: ...


@dataclass
class ServiceHarness:
    """A running service app (lifespan entered) with a client and a token minter."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    key: bytes
    default_headers: dict[str, str] = field(default_factory=dict)

    def token(
        self, sub: str = "tester", roles: list[str] | None = None, org_scope: Any = None, ttl: int = 3600
    ) -> str:
        return mint_token(
            self.key,
            sub=sub,
            roles=roles or ["admin"],
            org_scope=str(org_scope) if org_scope else None,
            ttl=ttl,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )

    def auth(
        self, roles: list[str] | None = None, org_scope: Any = None, sub: str = "tester"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, roles, org_scope)}"}


ServiceRunner = Callable[..., Any]


@pytest.fixture
def run_service(
    tmp_path: Path, nats_server: NatsServer, database_provider: DatabaseProvider, nats_handle: Any
) -> Callable[..., Any]:
    """``async with run_service("orgs", create_app) as svc:`` — the real app on a fresh database.

    Each test starts with no stream on the session's NATS server (``nats_handle`` deletes them, and with them
    the durable consumers): otherwise a service's durable consumer would resume where an earlier test's left
    off, and events of that test — some of them deliberately malformed — would be redelivered to this one.
    """

    @asynccontextmanager
    async def run(
        name: str,
        create_app: AppFactory,
        *,
        run_workers: bool = True,
        nats_url: str | None = None,
        **overrides: Any,
    ) -> AsyncIterator[ServiceHarness]:
        # Services that must accept each other's tokens share a data dir (the development key lives there).
        data_dir = overrides.pop("data_dir", None) or tmp_path / f"data-{name}-{uuid.uuid4().hex[:6]}"
        data_dir.mkdir(exist_ok=True)
        url = await database_provider.fresh(name, tmp_path)
        settings = ServiceSettings.load(
            name,
            env="test",
            data_dir=data_dir,
            database_url=url,
            nats_url=nats_url or nats_server.url,
            **overrides,
        )
        from shared.auth import load_or_create_dev_key

        key = load_or_create_dev_key(settings.dev_key_path)
        app = create_app(settings, run_workers=run_workers)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
                yield ServiceHarness(name=name, app=app, client=client, settings=settings, key=key)

    return run
