from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.upstream_app import free_port, serve, upstream_app

SERVICES = ("orgs", "cadres", "training")
CLIENTS = ("aiohttp", "httpx", "httpx-aiohttp")


@pytest.fixture(scope="session")
def upstream_urls() -> Iterator[dict[str, str]]:
    """One real HTTP server per service, for the whole session."""
    with serve(upstream_app("orgs")) as orgs, serve(upstream_app("cadres")) as cadres:
        with serve(upstream_app("training")) as training:
            yield {"orgs": orgs, "cadres": cadres, "training": training}


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(params=CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_gateway(
    upstream_urls: dict[str, str], http_client: str, monkeypatch: pytest.MonkeyPatch
) -> GatewayFactory:
    """Builds a gateway in-process (lifespan on) in front of the test services.

    ``down=("training",)`` points those services at a port where nothing listens; ``urls`` at given URLs.
    """

    @asynccontextmanager
    async def build(
        *, down: tuple[str, ...] = (), urls: dict[str, str] | None = None, **settings: object
    ) -> AsyncIterator[httpx.AsyncClient]:
        for service in SERVICES:
            url = f"http://127.0.0.1:{free_port()}" if service in down else upstream_urls[service]
            url = (urls or {}).get(service, url)
            monkeypatch.setenv(f"TOCHUC_{service.upper()}_URL", url)
        values: dict[str, object] = {"gateway_http_client": http_client, **settings}
        app = create_app(GatewaySettings(**values))  # type: ignore[arg-type]
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield client

    return build


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_gateway() as client:
        yield client
