"""The register of directive documents: registration, its event, lists, scope and counts by kind."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from services.orgs.documents.repository import counts_by_kind
from services.orgs.organizations import repository as org_repo
from services.orgs.tests.conftest import Tree
from shared.outbox import outbox


async def _register(
    tree: Tree, number: str, kind: str, issued_on: str, issuer: str | None = "NA", **extra: Any
) -> Any:
    body = {"number": number, "kind": kind, "title": f"Văn bản {number}", "issued_on": issued_on, **extra}
    if issuer is not None:
        body["issuer_org_id"] = tree.ids[issuer]
    return await tree.svc.client.post("/v1/documents", json=body, headers=tree.headers)


async def _events(svc: Any) -> list[dict[str, Any]]:
    async with svc.app.state.db.session() as s:
        payloads = (await s.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars().all()
    return [e for e in map(json.loads, payloads) if e["type"] == "vn.tochuc.orgs.document.registered.v1"]


async def test_register_read_and_its_event(small_tree: Tree) -> None:
    tree = small_tree
    r = await _register(tree, "189-KL/TU", "conclusion", "2022-03-15")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["location"] == f"/v1/documents/{doc['id']}" and r.headers["etag"] == '"1"'
    assert (
        doc["number"] == "189-KL/TU"
        and doc["kind"] == "conclusion"
        and doc["issuer_org_id"] == tree.ids["NA"]
    )
    got = await tree.svc.client.get(f"/v1/documents/{doc['id']}", headers=tree.headers)
    assert got.status_code == 200 and got.json() == doc
    (event,) = await _events(tree.svc)
    assert event["subject"] == doc["id"] and event["sequence"] == 1
    assert event["data"] == {
        "id": doc["id"],
        "number": "189-KL/TU",
        "kind": "conclusion",
        "title": "Văn bản 189-KL/TU",
        "issued_on": "2022-03-15",
    }


async def test_a_number_is_unique_per_issuer(small_tree: Tree) -> None:
    tree = small_tree
    assert (await _register(tree, "01-NQ/TU", "resolution", "2022-01-05")).status_code == 201
    dup = await _register(tree, "01-NQ/TU", "plan", "2022-02-05")
    assert dup.status_code == 409 and dup.json()["type"].endswith("/duplicate-number")
    assert (await _register(tree, "01-NQ/TU", "resolution", "2022-01-05", issuer="NA.HD")).status_code == 201
    assert (await _register(tree, "01-NQ/TU", "resolution", "2022-01-05", issuer=None)).status_code == 201
    again = await _register(tree, "01-NQ/TU", "resolution", "2022-01-05", issuer=None)
    assert again.status_code == 409
    assert len(await _events(tree.svc)) == 3


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"number": "1", "kind": "memo", "title": "x", "issued_on": "2022-01-01"}, 422, "validation"),
        ({"number": " ", "kind": "plan", "title": "x", "issued_on": "2022-01-01"}, 422, "validation"),
        (
            {"number": "1", "kind": "plan", "title": "x", "issued_on": "2022-01-01", "id": "x"},
            422,
            "validation",
        ),
        (
            {
                "number": "1",
                "kind": "plan",
                "title": "x",
                "issued_on": "2022-01-01",
                "issuer_org_id": "00000000-0000-0000-0000-000000000001",
            },
            422,
            "unknown-organization",
        ),
    ],
)
async def test_bad_registrations_are_refused(
    small_tree: Tree, body: dict[str, Any], status: int, slug: str
) -> None:
    r = await small_tree.svc.client.post("/v1/documents", json=body, headers=small_tree.headers)
    assert r.status_code == status and r.json()["type"].endswith(f"/{slug}")
    assert await _events(small_tree.svc) == []


async def test_the_issuer_must_be_active_when_it_issued(small_tree: Tree) -> None:
    r = await _register(small_tree, "5-KH/HU", "plan", "2019-06-01", issuer="NA.HD")  # established 2020-01-01
    assert r.status_code == 422 and r.json()["type"].endswith("/issuer-not-active")


async def test_who_may_register_and_see(small_tree: Tree) -> None:
    tree = small_tree
    ids = tree.ids
    province = (await _register(tree, "1-CT/TU", "directive", "2022-01-10")).json()
    hd = (await _register(tree, "2-KH/HU", "plan", "2022-02-10", issuer="NA.HD")).json()
    tc = (await _register(tree, "3-KH/HU", "plan", "2022-03-10", issuer="NA.TC")).json()
    free = (await _register(tree, "4-BC", "report", "2022-04-10", issuer=None)).json()
    viewer = tree.svc.auth(["viewer"], org_scope=ids["NA.HD.XA"])
    # Below the issuer: documents of the province and the district apply; a sibling district's do not exist.
    for doc, status in ((province, 200), (hd, 200), (free, 200), (tc, 404)):
        r = await tree.svc.client.get(f"/v1/documents/{doc['id']}", headers=viewer)
        assert r.status_code == status, doc["number"]
    listed = (await tree.svc.client.get("/v1/documents", headers=viewer)).json()["items"]
    assert {d["number"] for d in listed} == {"1-CT/TU", "2-KH/HU", "4-BC"}
    body = {
        "number": "9",
        "kind": "plan",
        "title": "x",
        "issued_on": "2022-05-01",
        "issuer_org_id": ids["NA.HD"],
    }
    assert (await tree.svc.client.post("/v1/documents", json=body, headers=viewer)).status_code == 403
    organizer = tree.svc.auth(["organizer"], org_scope=ids["NA.HD"])
    assert (await tree.svc.client.post("/v1/documents", json=body, headers=organizer)).status_code == 201
    outside = {**body, "number": "10", "issuer_org_id": ids["NA.TC"]}
    assert (await tree.svc.client.post("/v1/documents", json=outside, headers=organizer)).status_code == 403
    no_issuer = {k: v for k, v in body.items() if k != "issuer_org_id"} | {"number": "11"}
    assert (await tree.svc.client.post("/v1/documents", json=no_issuer, headers=organizer)).status_code == 403


DOCS = [
    ("NA", "10-NQ/TU", "resolution", "2021-12-31"),
    ("NA", "11-KH/TU", "plan", "2022-01-01"),
    ("NA", "12-KH/TU", "plan", "2022-06-30"),
    ("NA.HD", "13-QĐ/HU", "regulation", "2022-06-30"),
    ("NA.HD.XA", "14-BC/ĐU", "report", "2022-03-01"),
    ("NA.TC", "15-BC/HU", "report", "2022-12-31"),
    ("NA.TC", "16-ĐA/HU", "project", "2023-01-01"),
    (None, "17-BC", "report", "2022-05-05"),
]


@pytest.fixture
async def register(small_tree: Tree) -> Tree:
    for issuer, number, kind, issued_on in DOCS:
        assert (await _register(small_tree, number, kind, issued_on, issuer=issuer)).status_code == 201
    return small_tree


def _expected(start: str, end: str, under: set[str | None]) -> dict[str, int]:
    return dict(Counter(kind for issuer, _, kind, on in DOCS if start <= on <= end and issuer in under))


async def test_list_orders_filters_and_pages(register: Tree) -> None:
    tree = register
    expected = sorted(DOCS, key=lambda d: d[1])
    expected = sorted(expected, key=lambda d: d[3], reverse=True)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await tree.svc.client.get("/v1/documents", params=params, headers=tree.headers)).json()
        seen += [d["number"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [d[1] for d in expected]

    async def numbers(**params: Any) -> set[str]:
        r = await tree.svc.client.get("/v1/documents", params=params, headers=tree.headers)
        assert r.status_code == 200, r.text
        return {d["number"] for d in r.json()["items"]}

    assert await numbers(kind="report") == {"14-BC/ĐU", "15-BC/HU", "17-BC"}
    # Both ends of a period are included.
    assert await numbers(**{"from": "2022-01-01", "to": "2022-06-30"}) == {
        "11-KH/TU",
        "12-KH/TU",
        "13-QĐ/HU",
        "14-BC/ĐU",
        "17-BC",
    }
    assert await numbers(within=tree.ids["NA.HD"]) == {"13-QĐ/HU", "14-BC/ĐU"}
    assert await numbers(within=tree.ids["NA"], kind="report") == {"14-BC/ĐU", "15-BC/HU", "17-BC"}
    bad = await tree.svc.client.get(
        "/v1/documents", params={"from": "2022-02-01", "to": "2022-01-01"}, headers=tree.headers
    )
    assert bad.status_code == 422


async def test_counts_by_kind_over_a_period_include_both_ends(register: Tree) -> None:
    tree = register
    everyone = {None, "NA", "NA.HD", "NA.HD.XA", "NA.TC"}
    async with tree.svc.app.state.db.session() as s:

        def d(text: str) -> dt.date:
            return dt.date.fromisoformat(text)

        province = await org_repo.current_path(s, uuid.UUID(tree.ids["NA"]))
        district = await org_repo.current_path(s, uuid.UUID(tree.ids["NA.HD"]))
        for start, end in (
            ("2022-01-01", "2022-12-31"),
            ("2021-12-31", "2021-12-31"),
            ("2022-06-30", "2023-01-01"),
        ):
            assert await counts_by_kind(s, d(start), d(end), None) == _expected(start, end, everyone)
            assert await counts_by_kind(s, d(start), d(end), province) == _expected(start, end, everyone)
            assert await counts_by_kind(s, d(start), d(end), district) == _expected(
                start, end, {"NA.HD", "NA.HD.XA"}
            )
    assert _expected("2022-01-01", "2022-12-31", everyone) == {"plan": 2, "regulation": 1, "report": 3}


async def test_within_follows_the_issuer_as_it_was_when_it_issued(register: Tree) -> None:
    """NA.HD.XA moves to NA.TC in 2025: its 2022 report stays counted under NA.HD."""
    tree = register
    r = await tree.svc.client.post(
        f"/v1/organizations/{tree.ids['NA.HD.XA']}/move",
        json={"parent_id": tree.ids["NA.TC"], "effective_on": "2025-07-01"},
        headers=tree.headers,
    )
    assert r.status_code == 200, r.text
    listed = (
        await tree.svc.client.get("/v1/documents", params={"within": tree.ids["NA.HD"]}, headers=tree.headers)
    ).json()["items"]
    assert {d["number"] for d in listed} == {"13-QĐ/HU", "14-BC/ĐU"}
