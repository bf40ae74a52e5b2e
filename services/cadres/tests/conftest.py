from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.cadres.app import create_app as create_cadres
from services.orgs.app import create_app as create_orgs
from shared.testing.service import ServiceHarness


@pytest.fixture
async def pair(run_service: Any, tmp_path: Path) -> AsyncIterator[tuple[ServiceHarness, ServiceHarness]]:
    """orgs and cadres on one NATS, sharing the development key; cadres reaches orgs over ASGI."""
    shared_dir = tmp_path / "data"
    async with run_service("orgs", create_orgs, data_dir=shared_dir) as orgs:
        async with run_service("cadres", create_cadres, data_dir=shared_dir) as cadres:
            directory = cadres.app.state.org_directory
            await directory.client.aclose()
            directory.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=orgs.app), base_url="http://orgs"
            )
            yield orgs, cadres


async def add_org(
    orgs: ServiceHarness, code: str, level: str, parent: str | None = None, **extra: Any
) -> str:
    body = {
        "code": code,
        "name": extra.pop("name", f"Đảng bộ {code}"),
        "level": level,
        "kind": extra.pop("kind", "agency"),
        "established_on": "2020-01-01",
        **extra,
    }
    if parent:
        body["parent_id"] = parent
    r = await orgs.client.post("/v1/organizations", json=body, headers=orgs.auth(["admin"]))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
