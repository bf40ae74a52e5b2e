"""Posts: defined in an organization, independent of their holders, with seats and requirements."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from services.cadres.tests.conftest import add_org
from shared.outbox import outbox


async def test_define_list_and_scope_posts(pair: Any) -> None:
    orgs, cadres = pair
    province = await add_org(orgs, "NA", "province")
    a = await add_org(orgs, "NA.A", "upper_grassroots", province)
    b = await add_org(orgs, "NA.B", "upper_grassroots", province)
    personnel = cadres.auth(["personnel"])
    body = {
        "org_id": a,
        "title": "Bí thư Huyện ủy",
        "category": "secretary",
        "seats": 1,
        "requirements": {"theory_level": "advanced", "min_years_in_prior_post": 2},
    }
    r = await cadres.client.post("/v1/posts", json=body, headers=personnel)
    assert r.status_code == 201, r.text
    post = r.json()
    assert r.headers["location"] == f"/v1/posts/{post['id']}"
    assert post["holders"] == 0 and post["vacant"] == 1 and post["requirements"]["theory_level"] == "advanced"
    await cadres.client.post(
        "/v1/posts",
        headers=personnel,
        json={"org_id": b, "title": "Phó Bí thư", "category": "deputy_secretary", "seats": 2},
    )
    listed = (
        await cadres.client.get("/v1/posts", headers=personnel, params={"category": "secretary"})
    ).json()
    assert [p["title"] for p in listed["items"]] == ["Bí thư Huyện ủy"]
    vacant = (await cadres.client.get("/v1/posts", headers=personnel, params={"vacant": "true"})).json()
    assert len(vacant["items"]) == 2
    scoped = (await cadres.client.get("/v1/posts", headers=cadres.auth(["viewer"], org_scope=b))).json()
    assert [p["category"] for p in scoped["items"]] == ["deputy_secretary"]
    hidden = await cadres.client.get(f"/v1/posts/{post['id']}", headers=cadres.auth(["viewer"], org_scope=b))
    assert hidden.status_code == 404
    forbidden = await cadres.client.post(
        "/v1/posts", json=body, headers=cadres.auth(["personnel"], org_scope=b)
    )
    assert forbidden.status_code == 403
    bad = await cadres.client.post("/v1/posts", headers=personnel, json={**body, "requirements": {"x": 1}})
    assert bad.status_code == 422
    async with cadres.app.state.db.session() as s:
        payloads = [
            json.loads(p)
            for (p,) in await s.execute(
                select(outbox.c.payload).where(outbox.c.subject == "tochuc.cadres.post.defined.v1")
            )
        ]
    assert payloads[0]["data"] == {
        "id": post["id"],
        "org_id": a,
        "title": "Bí thư Huyện ủy",
        "category": "secretary",
        "seats": 1,
        "requirements": {"theory_level": "advanced", "min_years_in_prior_post": 2},
    }
