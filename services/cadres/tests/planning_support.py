"""Helpers of the planning, payroll and vetting tests: an organization tree, cadres and posts via the API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert, select

from services.cadres.assignments.models import Assignment
from services.cadres.tests.conftest import add_org
from shared.orgtree.models import ProjectedOrganization
from shared.outbox import outbox
from shared.testing.service import ServiceHarness


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def tree(orgs: ServiceHarness, cadres: ServiceHarness, prefix: str) -> dict[str, str]:
    """province P > upper_grassroots A (> grassroots_committee X), B — all projected into cadres."""
    ids: dict[str, str] = {}
    ids["P"] = await add_org(orgs, prefix, "province")
    ids["A"] = await add_org(orgs, f"{prefix}.A", "upper_grassroots", ids["P"])
    ids["B"] = await add_org(orgs, f"{prefix}.B", "upper_grassroots", ids["P"])
    ids["X"] = await add_org(orgs, f"{prefix}.A.X", "grassroots_committee", ids["A"], kind="commune")

    async def projected() -> bool:
        async with cadres.app.state.db.session() as s:
            found = {str(i) for (i,) in await s.execute(select(ProjectedOrganization.id))}
        return set(ids.values()) <= found

    await eventually(projected)
    return ids


async def new_cadre(cadres: ServiceHarness, org_id: str, name: str, level: str = "intermediate") -> str:
    body = {
        "full_name": name,
        "birth_date": "1980-05-01",
        "gender": "male",
        "org_id": org_id,
        "education": "bachelor",
        "declared_theory_level": level,
    }
    r = await cadres.client.post("/v1/cadres", json=body, headers=cadres.auth(["personnel"]))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def new_post(
    cadres: ServiceHarness, org_id: str, title: str, category: str, **requirements: Any
) -> str:
    body = {"org_id": org_id, "title": title, "category": category, "requirements": requirements}
    r = await cadres.client.post("/v1/posts", json=body, headers=cadres.auth(["personnel"]))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def hold(cadres: ServiceHarness, cadre_id: str, post_id: str, org_id: str, since: str) -> None:
    """An assignment written directly (the personnel actions' own API is tested on its own)."""
    async with cadres.app.state.db.transaction() as s:
        await s.execute(
            insert(Assignment.__table__).values(
                id=uuid.uuid4(),
                cadre_id=uuid.UUID(cadre_id),
                post_id=uuid.UUID(post_id),
                org_id=uuid.UUID(org_id),
                kind="appointment",
                starts_on=dt.date.fromisoformat(since),
            )
        )


async def events_of(cadres: ServiceHarness, subject: str) -> list[dict[str, Any]]:
    async with cadres.app.state.db.session() as s:
        rows = await s.execute(
            select(outbox.c.payload).where(outbox.c.subject == subject).order_by(outbox.c.seq)
        )
        return [json.loads(p) for (p,) in rows]
