"""The tree endpoint writes its JSON itself (no response model, no encoder): its answer must be exactly what
``OrganizationTree`` describes and what the other endpoints say about the same organizations."""

from __future__ import annotations

import json
from typing import Any

from services.orgs.organizations.schemas import OrganizationTree
from services.orgs.tests.conftest import Tree


def _nest(root: dict[str, Any], items: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    """The tree as the list endpoint sees it: active descendants ``depth`` levels down, children by code."""
    by_id = {root["id"]: {**root, "children": []}}
    for item in sorted(items, key=lambda i: (len(i["path"]), i["code"])):
        if item["id"] == root["id"] or len(item["path"]) - len(root["path"]) > depth:
            continue
        node = by_id[item["id"]] = {**item, "children": []}
        parent = by_id.get(item["parent_id"])
        if parent is not None:
            parent["children"].append(node)
    return by_id[root["id"]]


async def _expected(tree: Tree, org: str, as_of: str, depth: int) -> dict[str, Any]:
    client, h = tree.svc.client, tree.headers
    root = (await client.get(f"/v1/organizations/{tree.ids[org]}", headers=h, params={"as_of": as_of})).json()
    listed = await client.get(
        "/v1/organizations", headers=h, params={"within": tree.ids[org], "as_of": as_of, "limit": 500}
    )
    assert listed.json()["next_cursor"] is None
    return _nest(root, listed.json()["items"], depth)


async def _check(tree: Tree, org: str, as_of: str, depth: int) -> dict[str, Any]:
    r = await tree.svc.client.get(
        f"/v1/organizations/{tree.ids[org]}/tree",
        headers=tree.headers,
        params={"depth": depth, "as_of": as_of},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    # What the endpoint answered before (dicts through JSONResponse), byte for byte.
    expected = await _expected(tree, org, as_of, depth)
    assert r.content == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    # Exactly the model: every field, no other, each in the model's JSON form.
    assert OrganizationTree.model_validate_json(r.content).model_dump(mode="json") == body
    assert r.headers["etag"] == f'"{body["version"]}"'
    return body


def _codes(node: dict[str, Any]) -> list[str]:
    return [node["code"], *(c for child in node["children"] for c in _codes(child))]


async def test_the_tree_is_the_model_and_agrees_with_the_other_reads(small_tree: Tree) -> None:
    tree, h, client = small_tree, small_tree.headers, small_tree.svc.client
    # Text that JSON must escape, diacritics, tags, decisions; later: a rename, a move and a merge.
    await tree.add(
        "NA.HD.XA.C3",
        "cell",
        "NA.HD.XA",
        name='Chi bộ "Xóm 3" \\ Hưng Đạo\tđội 2',
        tags=["religious_area", "difficult_area"],
        decision_no='7-QĐ/ĐU "bổ sung"',
        decided_on="2019-12-20",
        on="2021-03-01",
    )
    await tree.add("NA.HD.XA.C0", "cell", "NA.HD.XA", name="Chi bộ 0", on="2022-05-05")
    r = await client.patch(
        f"/v1/organizations/{tree.ids['NA.HD.XA.C1']}",
        headers=h,
        json={"name": "Chi bộ xóm Một", "effective_on": "2024-01-01", "tags": ["border_area"]},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/organizations/{tree.ids['NA.HD.XA']}/move",
        headers=h,
        json={"parent_id": tree.ids["NA.TC"], "effective_on": "2025-01-01"},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/v1/organizations/merge",
        headers=h,
        json={
            "source_ids": [tree.ids["NA.TC.XB"]],
            "target_id": tree.ids["NA.HD.XA"],
            "effective_on": "2025-07-01",
        },
    )
    assert r.status_code == 200, r.text

    for org, as_of, depth in [
        ("NA", "2020-06-30", 10),
        ("NA", "2023-06-30", 10),
        ("NA", "2024-06-30", 2),
        ("NA", "2025-03-01", 10),
        ("NA", "2025-07-01", 10),
        ("NA.TC", "2025-07-01", 1),
        ("NA.HD.XA", "2025-07-01", 3),
        ("NA.TC.XB", "2025-07-01", 5),  # merged on that day: the root itself is not active
    ]:
        await _check(tree, org, as_of, depth)

    deep = await _check(tree, "NA", "2023-06-30", 10)
    assert _codes(deep) == [
        "NA",
        "NA.HD",
        "NA.HD.XA",
        "NA.HD.XA.C0",
        "NA.HD.XA.C1",
        "NA.HD.XA.C3",
        "NA.TC",
        "NA.TC.XB",
        "NA.TC.XB.C2",
    ]
    moved = await _check(tree, "NA", "2025-03-01", 10)
    assert [c["code"] for c in moved["children"][1]["children"]] == ["NA.HD.XA", "NA.TC.XB"]
    merged = await _check(tree, "NA.TC.XB", "2025-07-01", 5)
    assert merged["status"] == "merged" and merged["merged_into_id"] == tree.ids["NA.HD.XA"]
    assert merged["dissolved_on"] == "2025-07-01" and merged["children"] == []


async def test_tree_not_found_and_out_of_scope(small_tree: Tree) -> None:
    tree, client = small_tree, small_tree.svc.client
    early = await client.get(
        f"/v1/organizations/{tree.ids['NA.HD']}/tree", headers=tree.headers, params={"as_of": "2019-12-31"}
    )
    assert early.status_code == 404
    assert early.json()["detail"] == f"Organization {tree.ids['NA.HD']} did not exist on 2019-12-31."
    scoped = tree.svc.auth(["viewer"], org_scope=tree.ids["NA.HD"])
    outside = await client.get(f"/v1/organizations/{tree.ids['NA']}/tree", headers=scoped)
    assert outside.status_code == 404
    assert outside.json()["detail"] == f"No organization {tree.ids['NA']}."
    inside = await client.get(
        f"/v1/organizations/{tree.ids['NA.HD']}/tree", headers=scoped, params={"depth": 5}
    )
    assert inside.status_code == 200 and _codes(inside.json()) == ["NA.HD", "NA.HD.XA", "NA.HD.XA.C1"]


async def test_openapi_still_describes_the_tree(small_tree: Tree) -> None:
    doc = (await small_tree.svc.client.get("/openapi.json")).json()
    ok = doc["paths"]["/v1/organizations/{org_id}/tree"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/OrganizationTree")
