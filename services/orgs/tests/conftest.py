from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.orgs.app import create_app
from shared.testing.service import ServiceHarness


@pytest.fixture
async def orgs(run_service: Any) -> AsyncIterator[ServiceHarness]:
    async with run_service("orgs", create_app) as harness:
        yield harness


class Tree:
    """Builds organizations through the API and remembers their ids by code."""

    def __init__(self, svc: ServiceHarness, headers: dict[str, str] | None = None) -> None:
        self.svc = svc
        self.headers = headers or svc.auth(["admin"])
        self.ids: dict[str, str] = {}

    async def add(
        self,
        code: str,
        level: str,
        parent: str | None = None,
        *,
        kind: str = "agency",
        on: str = "2020-01-01",
        name: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "code": code,
            "name": name or f"Đảng bộ {code}",
            "level": level,
            "kind": kind,
            "established_on": on,
            **extra,
        }
        if parent:
            body["parent_id"] = self.ids[parent]
        r = await self.svc.client.post("/v1/organizations", json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        self.ids[code] = r.json()["id"]
        return r.json()


@pytest.fixture
async def small_tree(orgs: ServiceHarness) -> Tree:
    """NA (province) ─ HD, TC (upper grassroots);
    HD ─ XA (grassroots committee) ─ C1 (cell); TC ─ XB ─ C2."""
    tree = Tree(orgs)
    await tree.add("NA", "province", name="Đảng bộ tỉnh Nghệ An")
    await tree.add("NA.HD", "upper_grassroots", "NA", name="Đảng bộ huyện Hưng Nguyên")
    await tree.add("NA.TC", "upper_grassroots", "NA", name="Đảng bộ huyện Thanh Chương")
    await tree.add("NA.HD.XA", "grassroots_committee", "NA.HD", kind="commune", name="Đảng bộ xã Hưng Đạo")
    await tree.add("NA.HD.XA.C1", "cell", "NA.HD.XA", kind="residential", name="Chi bộ xóm 1")
    await tree.add("NA.TC.XB", "grassroots_committee", "NA.TC", kind="commune", name="Đảng bộ xã Thanh Đồng")
    await tree.add("NA.TC.XB.C2", "cell", "NA.TC.XB", kind="residential", name="Chi bộ xóm 2")
    return tree
