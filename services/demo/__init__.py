"""The demo province: a plausible Nghệ An built through the public API, loaded by ``tochuc up`` on the first
start of an empty data dir (``TOCHUC_DEMO=0`` skips it). See docs/demo.md.

``load_demo(settings, gateway_url)`` is the contract ``shared/supervisor.py`` calls.
"""

from __future__ import annotations

import importlib.util
import time

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from services.demo.loader import CONCURRENCY, DemoLoadError, Loader, without
from services.demo.plan import SEED, build_plan
from shared.auth import load_or_create_dev_key, mint_token
from shared.settings import CommonSettings

__all__ = ["DemoLoadError", "admin_token", "load_demo"]


def admin_token(settings: CommonSettings, ttl: int = 3600) -> str:
    """An admin token signed with the data dir's development key, as ``tochuc token`` mints it."""
    if settings.jwks_url:
        raise DemoLoadError(
            "the demo needs the development signing key; it is not loaded with TOCHUC_JWKS_URL"
        )
    key = load_or_create_dev_key(settings.dev_key_path)
    return mint_token(
        key,
        sub="demo-loader",
        roles=["admin"],
        ttl=ttl,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def training_installed() -> bool:
    try:
        return importlib.util.find_spec("services.training.app") is not None
    except (ImportError, ValueError):
        return False


async def load_demo(settings: CommonSettings, gateway_url: str, *, concurrency: int = CONCURRENCY) -> None:
    started = time.monotonic()
    plan = build_plan(SEED)
    if not training_installed():
        print(
            "demo      the training service is not installed: programmes, courses and enrollments skipped",
            flush=True,
        )
        plan = without(plan, "training")
    headers = {"Authorization": f"Bearer {admin_token(settings)}"}
    # httpx's API on aiohttp's engine: httpx's own pool cost this loader about 5 ms of CPU per request
    # (measured: the loader's process used more CPU than any service), aiohttp's a fraction of it.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), trust_env=False)
    async with httpx.AsyncClient(
        transport=AiohttpTransport(client=session),
        base_url=gateway_url.rstrip("/") + "/api/v1",
        headers=headers,
        timeout=60.0,
        trust_env=False,
    ) as client:
        loader = Loader(client, seed=SEED, concurrency=concurrency, say=lambda line: print(line, flush=True))
        done = await loader.run(plan)
    print(f"demo      {sum(done.values())} requests in {time.monotonic() - started:.1f} s", flush=True)
