"""cadres: the organization projection (real NATS), the look-up of unseen organizations, cadres themselves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from services.cadres.cadres.models import SensitiveRead
from services.cadres.tests.conftest import add_org
from shared.orgtree.models import ProjectedOrganization
from shared.outbox import outbox


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def projected(cadres: Any) -> dict[str, dict[str, Any]]:
    async with cadres.app.state.db.session() as s:
        rows = (await s.execute(select(ProjectedOrganization.__table__))).mappings().all()
    return {str(r["id"]): dict(r) for r in rows}


def cadre_body(org_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": "Nguyễn Văn An",
        "birth_date": "1980-05-01",
        "gender": "male",
        "org_id": org_id,
        "education": "bachelor",
        "declared_theory_level": "intermediate",
        **extra,
    }


async def test_orgs_events_build_the_projection_and_renames_and_moves_follow(pair: Any) -> None:
    orgs, cadres = pair
    province = await add_org(orgs, "NA", "province")
    hd = await add_org(orgs, "NA.HD", "upper_grassroots", province)
    tc = await add_org(orgs, "NA.TC", "upper_grassroots", province)
    xa = await add_org(orgs, "NA.HD.XA", "grassroots_committee", hd, kind="commune")

    async def all_there() -> bool:
        return {province, hd, tc, xa} <= (await projected(cadres)).keys()

    await eventually(all_there)
    tree = await projected(cadres)
    assert tree[xa]["path"].startswith(tree[hd]["path"]) and tree[xa]["parent_id"] is not None
    r = await cadres.client.post("/v1/cadres", json=cadre_body(xa), headers=cadres.auth(["personnel"]))
    assert r.status_code == 201, r.text
    cadre = r.json()
    # A renamed organization shows its new name in cadres.
    r = await orgs.client.patch(
        f"/v1/organizations/{xa}",
        headers=orgs.auth(),
        json={"name": "Đảng bộ xã Hưng Đạo mới", "effective_on": "2024-01-01"},
    )
    assert r.status_code == 200

    async def renamed() -> bool:
        got = await cadres.client.get(f"/v1/cadres/{cadre['id']}", headers=cadres.auth(["viewer"]))
        return bool(got.json()["org_name"] == "Đảng bộ xã Hưng Đạo mới")

    await eventually(renamed)
    # A move re-scopes: the commune (and its cadre) is now inside NA.TC's subtree.
    r = await orgs.client.post(
        f"/v1/organizations/{xa}/move",
        headers=orgs.auth(),
        json={"parent_id": tc, "effective_on": "2025-07-01"},
    )
    assert r.status_code == 200

    async def moved() -> bool:
        got = await cadres.client.get(
            f"/v1/cadres/{cadre['id']}", headers=cadres.auth(["viewer"], org_scope=tc)
        )
        return got.status_code == 200

    await eventually(moved)
    hidden = await cadres.client.get(
        f"/v1/cadres/{cadre['id']}", headers=cadres.auth(["viewer"], org_scope=hd)
    )
    assert hidden.status_code == 404


async def test_a_cadre_can_be_registered_in_an_organization_created_a_moment_ago(pair: Any) -> None:
    orgs, cadres = pair
    # cadres' consumer stopped: the organizations' events cannot arrive; cadres looks them up once in orgs.
    for consumer in cadres.app.state.consumers:
        await consumer.stop()
    province = await add_org(orgs, "NB", "province")
    cell = await add_org(orgs, "NB.X", "upper_grassroots", province)
    r = await cadres.client.post("/v1/cadres", json=cadre_body(cell), headers=cadres.auth(["personnel"]))
    assert r.status_code == 201, r.text
    tree = await projected(cadres)
    assert {province, cell} <= tree.keys() and tree[cell]["path"].startswith(tree[province]["path"])
    unknown = await cadres.client.post(
        "/v1/cadres",
        headers=cadres.auth(["personnel"]),
        json=cadre_body("00000000-0000-0000-0000-0000000000aa"),
    )
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-organization")


async def test_cadres_api_scope_sensitive_fields_audit_and_events(pair: Any) -> None:
    orgs, cadres = pair
    province = await add_org(orgs, "NC", "province")
    a = await add_org(orgs, "NC.A", "upper_grassroots", province)
    b = await add_org(orgs, "NC.B", "upper_grassroots", province)
    personnel = cadres.auth(["personnel"])
    first = (
        await cadres.client.post(
            "/v1/cadres", headers=personnel, json=cadre_body(a, national_id="040080000123")
        )
    ).json()
    await cadres.client.post(
        "/v1/cadres", headers=personnel, json=cadre_body(b, full_name="Trần Thị Bình", gender="female")
    )
    await cadres.client.post("/v1/cadres", headers=personnel, json=cadre_body(a, full_name="Lê An"))
    listed = (await cadres.client.get("/v1/cadres", headers=cadres.auth(["viewer"]))).json()["items"]
    assert [c["full_name"] for c in listed] == ["Lê An", "Nguyễn Văn An", "Trần Thị Bình"]  # given name first
    assert all("national_id" not in c or c["national_id"] is None for c in listed)
    found = (await cadres.client.get("/v1/cadres", headers=personnel, params={"q": "tran thi binh"})).json()
    assert [c["full_name"] for c in found["items"]] == ["Trần Thị Bình"]
    scoped = (await cadres.client.get("/v1/cadres", headers=cadres.auth(["viewer"], org_scope=a))).json()
    assert {c["full_name"] for c in scoped["items"]} == {"Nguyễn Văn An", "Lê An"}
    # Sensitive: viewer gets no national id; vetting does, and the read is audited.
    viewer = (await cadres.client.get(f"/v1/cadres/{first['id']}", headers=cadres.auth(["viewer"]))).json()
    assert viewer.get("national_id") is None
    vetting = (await cadres.client.get(f"/v1/cadres/{first['id']}", headers=cadres.auth(["vetting"]))).json()
    assert vetting["national_id"] == "040080000123"
    async with cadres.app.state.db.session() as s:
        audits = (await s.execute(select(SensitiveRead.__table__))).mappings().all()
    assert len(audits) == 1 and audits[0]["roles"] == ["vetting"] and audits[0]["fields"] == ["national_id"]
    # Writes: outside scope 404, viewer 403, stale If-Match 412.
    r = await cadres.client.patch(
        f"/v1/cadres/{first['id']}",
        json={"education": "master"},
        headers=cadres.auth(["personnel"], org_scope=b),
    )
    assert r.status_code == 404
    r = await cadres.client.patch(
        f"/v1/cadres/{first['id']}", json={"education": "master"}, headers=cadres.auth(["viewer"])
    )
    assert r.status_code == 403
    r = await cadres.client.patch(
        f"/v1/cadres/{first['id']}", json={"education": "master"}, headers={**personnel, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await cadres.client.patch(
        f"/v1/cadres/{first['id']}", json={"education": "doctor"}, headers={**personnel, "If-Match": '"1"'}
    )
    assert r.status_code == 412
    r = await cadres.client.post(
        "/v1/cadres", headers=cadres.auth(["personnel"], org_scope=b), json=cadre_body(a)
    )
    assert r.status_code == 403
    r = await cadres.client.post("/v1/cadres", headers=personnel, json={**cadre_body(a), "status": "left"})
    assert r.status_code == 422
    async with cadres.app.state.db.session() as s:
        rows = (await s.execute(select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq))).all()
        assert (await s.execute(select(func.count()).select_from(outbox))).scalar_one() == 4
    assert [r.subject for r in rows].count("tochuc.cadres.cadre.registered.v1") == 3
    for row in rows:
        assert "040080000123" not in row.payload and "national_id" not in json.loads(row.payload)["data"]
    assert json.loads(rows[-1].payload)["data"] == {"id": first["id"], "changes": {"education": "master"}}
