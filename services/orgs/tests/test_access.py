"""Who may read and write what: tokens, roles and the organization-subtree scope."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from services.orgs.tests.conftest import Tree


async def test_no_token_or_a_bad_token_is_401_with_www_authenticate(small_tree: Tree) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    url = f"/v1/organizations/{ids['NA']}"
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        r = await svc.client.get(url, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"].startswith("application/problem+json")
    expired = svc.token(ttl=-10)
    assert (await svc.client.get(url, headers={"Authorization": f"Bearer {expired}"})).status_code == 401
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": "tochuc", "iat": now, "exp": now + 60}
    wrong_aud = jwt.encode({**claims, "aud": "someone-else"}, svc.key, algorithm="HS256")
    assert (await svc.client.get(url, headers={"Authorization": f"Bearer {wrong_aud}"})).status_code == 401
    wrong_key = jwt.encode(
        {**claims, "aud": "tochuc"}, b"another-key-of-enough-length-0123456789", algorithm="HS256"
    )
    assert (await svc.client.get(url, headers={"Authorization": f"Bearer {wrong_key}"})).status_code == 401
    # An unsigned token ("alg": "none") is never accepted: algorithms are pinned.
    unsigned = jwt.encode({**claims, "aud": "tochuc"}, None, algorithm="none")  # type: ignore[arg-type]
    assert (await svc.client.get(url, headers={"Authorization": f"Bearer {unsigned}"})).status_code == 401
    assert (await svc.client.get("/health/live")).status_code == 200  # health needs no token


# Scope: a token scoped to NA.HD. Own = NA.HD, child = NA.HD.XA, sibling = NA.TC, ancestor = NA.
CASES = [("NA.HD", 200, 200), ("NA.HD.XA", 200, 200), ("NA.TC", 404, 404), ("NA", 404, 404)]


@pytest.mark.parametrize(("code", "read", "write"), CASES)
async def test_scope_matrix_for_an_organizer(small_tree: Tree, code: str, read: int, write: int) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    scoped = svc.auth(["organizer"], org_scope=ids["NA.HD"])
    r = await svc.client.get(f"/v1/organizations/{ids[code]}", headers=scoped)
    assert r.status_code == read
    r = await svc.client.patch(
        f"/v1/organizations/{ids[code]}",
        headers=scoped,
        json={"name": "Tên mới", "effective_on": "2024-01-01"},
    )
    assert r.status_code == write, r.text
    # Creating under it: inside the scope allowed, outside refused (403: a write outside the subtree).
    level = {
        "NA.HD": "grassroots_cell",
        "NA.HD.XA": "cell",
        "NA.TC": "grassroots_cell",
        "NA": "upper_grassroots",
    }
    r = await svc.client.post(
        "/v1/organizations",
        headers=scoped,
        json={
            "code": f"NEW.{code}",
            "name": "Mới",
            "level": level[code],
            "kind": "other",
            "parent_id": ids[code],
            "established_on": "2024-06-01",
        },
    )
    assert r.status_code == (201 if write == 200 else 403), r.text


@pytest.mark.parametrize(("code", "read"), [(c, r) for c, r, _ in CASES])
async def test_scope_matrix_for_a_viewer(small_tree: Tree, code: str, read: int) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    viewer = svc.auth(["viewer"], org_scope=ids["NA.HD"])
    assert (await svc.client.get(f"/v1/organizations/{ids[code]}", headers=viewer)).status_code == read
    r = await svc.client.patch(
        f"/v1/organizations/{ids[code]}",
        headers=viewer,
        json={"name": "Tên mới", "effective_on": "2024-01-01"},
    )
    # Visible but not writable by the role: 403; invisible: 404 (it does not exist for the caller).
    assert r.status_code == (403 if read == 200 else 404)


async def test_lists_and_trees_are_cut_to_the_scope(small_tree: Tree) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    scoped = svc.auth(["viewer"], org_scope=ids["NA.HD"])
    items = (await svc.client.get("/v1/organizations", headers=scoped)).json()["items"]
    assert {o["code"] for o in items} == {"NA.HD", "NA.HD.XA", "NA.HD.XA.C1"}
    anc = (await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA.C1']}/ancestors", headers=scoped)).json()
    assert [o["code"] for o in anc["items"]] == ["NA.HD", "NA.HD.XA", "NA.HD.XA.C1"]
    within_sibling = await svc.client.get(
        "/v1/organizations", headers=scoped, params={"within": ids["NA.TC"]}
    )
    assert within_sibling.status_code == 404


async def test_moving_out_of_scope_or_creating_a_root_is_forbidden(small_tree: Tree) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    scoped = svc.auth(["organizer"], org_scope=ids["NA.HD"])
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers=scoped,
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01"},
    )
    assert r.status_code == 403
    r = await svc.client.post(
        "/v1/organizations",
        headers=scoped,
        json={
            "code": "ROOT2",
            "name": "x",
            "level": "province",
            "kind": "other",
            "established_on": "2020-01-01",
        },
    )
    assert r.status_code == 403
    trainer = svc.auth(["trainer"])
    r = await svc.client.post(
        "/v1/organizations",
        headers=trainer,
        json={
            "code": "ROOT3",
            "name": "x",
            "level": "province",
            "kind": "other",
            "established_on": "2020-01-01",
        },
    )
    assert r.status_code == 403


async def test_operations_endpoints(orgs: Any) -> None:
    ready = await orgs.client.get("/health/ready")
    assert ready.status_code == 200 and ready.headers["content-type"].startswith("application/health+json")
    body = ready.json()
    assert body["serviceId"] == "orgs" and body["status"] in ("pass", "warn")
    assert {"database:responseTime", "nats:connected", "outbox:backlog"} <= body["checks"].keys()
    metrics = await orgs.client.get("/metrics")
    assert "tochuc_http_requests_total" in metrics.text and "tochuc_outbox_backlog" in metrics.text
    big = await orgs.client.post(
        "/v1/organizations",
        content=b"x" * (1024 * 1024 + 1),
        headers={**orgs.auth(), "Content-Type": "application/json"},
    )
    assert big.status_code == 413 and big.headers["content-type"].startswith("application/problem+json")
    r = await orgs.client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["x-content-type-options"] == "nosniff"
    listed = await orgs.client.get("/v1/organizations", headers=orgs.auth())
    assert listed.headers["cache-control"] == "no-store" and len(listed.headers["x-request-id"]) >= 16


async def test_housekeeping_deletes_old_published_rows_and_expired_keys(orgs: Any) -> None:
    import datetime as dt

    from sqlalchemy import func, select, update

    from shared.idempotency import idempotency_keys
    from shared.outbox import outbox
    from shared.service_app import housekeeping_once

    h = {**orgs.auth(), "Idempotency-Key": "old"}
    for code in ("A", "B"):
        body = {
            "code": code,
            "name": code,
            "level": "province",
            "kind": "other",
            "established_on": "2020-01-01",
        }
        await orgs.client.post("/v1/organizations", json=body, headers={**h, "Idempotency-Key": code})
    db = orgs.app.state.db
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    async with db.transaction() as s:
        first = (await s.execute(select(func.min(outbox.c.seq)))).scalar_one()
        await s.execute(update(outbox).where(outbox.c.seq == first).values(published_at=long_ago))
        await s.execute(
            update(idempotency_keys).where(idempotency_keys.c.key == "A").values(created_at=long_ago)
        )
    assert await housekeeping_once(db) == (1, 1)
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(outbox))).scalar_one() == 1
        assert [r for (r,) in await s.execute(select(idempotency_keys.c.key))] == ["B"]


async def test_the_rulebook_needs_a_token_too(orgs: Any) -> None:
    assert (await orgs.client.get("/v1/rules")).status_code == 401
    assert (await orgs.client.get("/v1/rules", headers=orgs.auth(["viewer"]))).status_code == 200
