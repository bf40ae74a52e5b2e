"""API tests of organizations over time: each operation, its rules, as_of reads and history."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.orgs.organizations.models import Organization, OrganizationChange, OrganizationVersion
from services.orgs.tests.conftest import Tree
from shared.outbox import outbox


def _codes(node: dict[str, Any]) -> set[str]:
    out = {node["code"]}
    for child in node.get("children", []):
        out |= _codes(child)
    return out


def _parent_of(tree_json: dict[str, Any], code: str, parent: str | None = None) -> str | None:
    if tree_json["code"] == code:
        return parent
    for child in tree_json["children"]:
        found = _parent_of(child, code, tree_json["code"])
        if found:
            return found
    return None


async def _counts(svc: Any) -> tuple[int, int, int, int]:
    async with svc.app.state.db.session() as s:
        return (
            (await s.execute(select(func.count()).select_from(Organization))).scalar_one(),
            (await s.execute(select(func.count()).select_from(OrganizationVersion))).scalar_one(),
            (await s.execute(select(func.count()).select_from(OrganizationChange))).scalar_one(),
            (await s.execute(select(func.count()).select_from(outbox))).scalar_one(),
        )


async def test_establish_returns_the_organization_with_path_location_and_etag(orgs: Any) -> None:
    tree = Tree(orgs)
    root = await tree.add("NA", "province", name="Đảng bộ tỉnh Nghệ An", kind="other", decision_no="1-QĐ/TW")
    r = await orgs.client.post(
        "/v1/organizations",
        headers=tree.headers,
        json={
            "code": "NA.HD",
            "name": "Đảng bộ huyện Hưng Nguyên",
            "level": "upper_grassroots",
            "kind": "agency",
            "parent_id": root["id"],
            "tags": ["difficult_area"],
            "established_on": "2020-01-01",
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == f"/v1/organizations/{body['id']}"
    assert r.headers["etag"] == '"1"'
    assert body["path"] == [root["id"], body["id"]]
    assert body["parent_id"] == root["id"]
    assert body["status"] == "active" and body["tags"] == ["difficult_area"] and body["version"] == 1
    assert root["decision_no"] == "1-QĐ/TW"


async def test_as_of_before_establishment_is_404(small_tree: Tree) -> None:
    svc = small_tree.svc
    r = await svc.client.get(
        f"/v1/organizations/{small_tree.ids['NA.HD']}",
        params={"as_of": "2019-12-31"},
        headers=small_tree.headers,
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_move_changes_the_tree_exactly_from_its_date_and_is_in_history(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers=h,
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01", "decision_no": "1234-QĐ/TU"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["parent_id"] == ids["NA.TC"]
    before = (
        await svc.client.get(
            f"/v1/organizations/{ids['NA']}/tree", headers=h, params={"depth": 10, "as_of": "2025-06-30"}
        )
    ).json()
    after = (
        await svc.client.get(
            f"/v1/organizations/{ids['NA']}/tree", headers=h, params={"depth": 10, "as_of": "2025-07-02"}
        )
    ).json()
    assert _codes(before) == _codes(after)
    assert _parent_of(before, "NA.HD.XA") == "NA.HD" and _parent_of(after, "NA.HD.XA") == "NA.TC"
    # Everything else is where it was; the cell moved with its committee.
    for code in _codes(before) - {"NA.HD.XA"}:
        assert _parent_of(before, code) == _parent_of(after, code)
    cell_after = (
        await svc.client.get(
            f"/v1/organizations/{ids['NA.HD.XA.C1']}", headers=h, params={"as_of": "2025-07-02"}
        )
    ).json()
    assert cell_after["path"] == [ids["NA"], ids["NA.TC"], ids["NA.HD.XA"], ids["NA.HD.XA.C1"]]
    cell_before = (
        await svc.client.get(
            f"/v1/organizations/{ids['NA.HD.XA.C1']}", headers=h, params={"as_of": "2025-06-30"}
        )
    ).json()
    assert cell_before["path"][1] == ids["NA.HD"]
    # Depths stay right after the move: one level down shows the moved committee without its cell.
    shallow = (
        await svc.client.get(
            f"/v1/organizations/{ids['NA.TC']}/tree", headers=h, params={"depth": 1, "as_of": "2025-07-02"}
        )
    ).json()
    assert {c["code"]: c["children"] for c in shallow["children"]} == {"NA.TC.XB": [], "NA.HD.XA": []}
    async with svc.app.state.db.session() as s:
        rows = (await s.execute(select(OrganizationVersion.path, OrganizationVersion.depth))).all()
    assert all(depth == path.count("/") - 2 for path, depth in rows)
    history = (await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA']}/history", headers=h)).json()[
        "items"
    ]
    assert [c["change"] for c in history] == ["established", "moved"]
    moved = history[1]
    assert moved["effective_on"] == "2025-07-01" and moved["decision_no"] == "1234-QĐ/TU"
    assert moved["before"] == {"parent_id": ids["NA.HD"]} and moved["after"] == {"parent_id": ids["NA.TC"]}
    # Within a subtree, as of each date.
    listed = (
        await svc.client.get(
            "/v1/organizations", headers=h, params={"within": ids["NA.TC"], "as_of": "2025-06-30"}
        )
    ).json()["items"]
    assert {o["code"] for o in listed} == {"NA.TC", "NA.TC.XB", "NA.TC.XB.C2"}
    listed = (
        await svc.client.get(
            "/v1/organizations", headers=h, params={"within": ids["NA.TC"], "as_of": "2025-07-02"}
        )
    ).json()["items"]
    assert {o["code"] for o in listed} == {"NA.TC", "NA.TC.XB", "NA.TC.XB.C2", "NA.HD.XA", "NA.HD.XA.C1"}


async def test_an_organization_established_earlier_under_a_moved_parent_follows_it(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers=h,
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01"},
    )
    # A cell established in 2023 (recorded after the move) sat under NA.HD then, and under NA.TC since.
    late = await small_tree.add("NA.HD.XA.C9", "cell", "NA.HD.XA", on="2023-03-01")
    assert late["path"][1] == ids["NA.HD"]
    now = (await svc.client.get(f"/v1/organizations/{late['id']}", headers=h)).json()
    assert now["path"][1] == ids["NA.TC"]


async def test_amend_opens_a_new_state_and_if_match_guards_it(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    url = f"/v1/organizations/{ids['NA.HD.XA']}"
    etag = (await svc.client.get(url, headers=h)).headers["etag"]
    r = await svc.client.patch(
        url,
        headers={**h, "If-Match": etag},
        json={"name": "Đảng bộ xã Hưng Đạo mới", "tags": ["border_area"], "effective_on": "2024-01-01"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    stale = await svc.client.patch(
        url, headers={**h, "If-Match": etag}, json={"name": "X", "effective_on": "2024-02-01"}
    )
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/stale-version")
    old = (await svc.client.get(url, headers=h, params={"as_of": "2023-12-31"})).json()
    new = (await svc.client.get(url, headers=h, params={"as_of": "2024-01-01"})).json()
    assert old["name"] == "Đảng bộ xã Hưng Đạo" and old["tags"] == []
    assert new["name"] == "Đảng bộ xã Hưng Đạo mới" and new["tags"] == ["border_area"]
    history = (await svc.client.get(f"{url}/history", headers=h)).json()["items"]
    assert history[-1]["before"] == {"name": "Đảng bộ xã Hưng Đạo", "tags": []}


async def test_merge_moves_children_to_the_target_and_ends_the_sources(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.post(
        "/v1/organizations/merge",
        headers=h,
        json={
            "source_ids": [ids["NA.HD"], ids["NA.TC"]],
            "effective_on": "2025-07-01",
            "decision_no": "M-1",
            "target": {
                "code": "NA.HTC",
                "name": "Đảng bộ Hưng - Thanh",
                "level": "upper_grassroots",
                "kind": "agency",
                "parent_id": ids["NA"],
                "established_on": "2025-07-01",
            },
        },
    )
    assert r.status_code == 200, r.text
    target = r.json()
    tree = (
        await svc.client.get(
            f"/v1/organizations/{target['id']}/tree", headers=h, params={"depth": 3, "as_of": "2025-07-01"}
        )
    ).json()
    assert {c["code"] for c in tree["children"]} == {"NA.HD.XA", "NA.TC.XB"}
    for code in ("NA.HD", "NA.TC"):
        src = (
            await svc.client.get(f"/v1/organizations/{ids[code]}", headers=h, params={"as_of": "2025-07-01"})
        ).json()
        assert src["status"] == "merged" and src["merged_into_id"] == target["id"]
        assert src["dissolved_on"] == "2025-07-01"
        earlier = (
            await svc.client.get(f"/v1/organizations/{ids[code]}", headers=h, params={"as_of": "2025-06-30"})
        ).json()
        assert earlier["status"] == "active" and earlier["dissolved_on"] is None
    root = (
        await svc.client.get(f"/v1/organizations/{ids['NA']}/tree", headers=h, params={"as_of": "2025-07-01"})
    ).json()
    assert [c["code"] for c in root["children"]] == ["NA.HTC"]
    merged = (await svc.client.get("/v1/organizations", headers=h, params={"status": "merged"})).json()[
        "items"
    ]
    assert {o["code"] for o in merged} == {"NA.HD", "NA.TC"}


async def test_dissolve_refuses_with_active_children_unless_told_where_they_go(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    counts = await _counts(svc)
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD']}/dissolve", headers=h, json={"effective_on": "2025-07-01"}
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/has-active-children") and r.json()["children"] == ["NA.HD.XA"]
    assert await _counts(svc) == counts  # nothing written
    r = await svc.client.post(
        f"/v1/organizations/{ids['NA.HD']}/dissolve",
        headers=h,
        json={
            "effective_on": "2025-07-01",
            "transfer_to": ids["NA.TC"],
            "reason": "abolition of the district level",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dissolved" and r.json()["dissolved_on"] == "2025-07-01"
    xa = (await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA']}", headers=h)).json()
    assert xa["parent_id"] == ids["NA.TC"]
    leaf = await svc.client.post(
        f"/v1/organizations/{ids['NA.TC.XB.C2']}/dissolve", headers=h, json={"effective_on": "2025-08-01"}
    )
    assert leaf.status_code == 200
    again = await svc.client.post(
        f"/v1/organizations/{ids['NA.TC.XB.C2']}/dissolve", headers=h, json={"effective_on": "2025-09-01"}
    )
    assert again.status_code == 422 and again.json()["type"].endswith("/not-active")
    # Under a dissolved organization nothing new may be placed.
    r = await svc.client.post(
        "/v1/organizations",
        headers=h,
        json={
            "code": "NA.HD.NEW",
            "name": "x",
            "level": "grassroots_cell",
            "kind": "agency",
            "parent_id": ids["NA.HD"],
            "established_on": "2025-08-01",
        },
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/parent-not-active")


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        (
            {
                "code": "X1",
                "name": "x",
                "level": "cell",
                "kind": "other",
                "established_on": "2020-01-01",
                "color": "red",
            },
            "validation",
        ),
        (
            {
                "code": "X2",
                "name": "x",
                "level": "cell",
                "kind": "other",
                "established_on": "2020-01-01",
                "parent_id": "00000000-0000-0000-0000-000000000001",
            },
            "unknown-parent",
        ),
        (
            {"code": "X3", "name": "x", "level": "county", "kind": "other", "established_on": "2020-01-01"},
            "validation",
        ),
        (
            {
                "code": "X4",
                "name": "x",
                "level": "upper_grassroots",
                "kind": "other",
                "established_on": "2020-01-01",
            },
            "rule-violation",
        ),
    ],
)
async def test_bad_input_is_a_clear_problem_and_nothing_is_written(
    orgs: Any, body: dict[str, Any], slug: str
) -> None:
    counts = await _counts(orgs)
    r = await orgs.client.post("/v1/organizations", json=body, headers=orgs.auth(["admin"]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith(f"/{slug}") and problem["status"] == 422 and problem["detail"]
    assert problem["request_id"] and problem["instance"] == "/v1/organizations"
    assert "Traceback" not in r.text
    if slug == "validation":
        assert problem["errors"] and {"loc", "msg", "type"} <= problem["errors"][0].keys()
    assert await _counts(orgs) == counts


async def test_a_cell_under_a_cell_violates_the_rulebook_and_names_the_rule(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.post(
        "/v1/organizations",
        headers=h,
        json={
            "code": "BAD",
            "name": "x",
            "level": "cell",
            "kind": "other",
            "parent_id": ids["NA.HD.XA.C1"],
            "established_on": "2021-01-01",
        },
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/rule-violation")
    assert problem["findings"][0]["rule"] == "organizations.allowed_parents"
    assert problem["findings"][0]["source"] and problem["findings"][0]["severity"] == "error"


async def test_the_rule_in_force_on_the_date_decides(small_tree: Tree) -> None:
    """Grassroots organizations directly under the province only from 2025-07-01 (294-QĐ/TW)."""
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    body = {
        "name": "Đảng bộ xã Nam Đàn",
        "level": "grassroots_committee",
        "kind": "commune",
        "parent_id": ids["NA"],
    }
    early = await svc.client.post(
        "/v1/organizations", headers=h, json={**body, "code": "E1", "established_on": "2025-06-30"}
    )
    assert early.status_code == 422 and early.json()["type"].endswith("/rule-violation")
    late = await svc.client.post(
        "/v1/organizations", headers=h, json={**body, "code": "E2", "established_on": "2025-07-01"}
    )
    assert late.status_code == 201
    rules = (await svc.client.get("/v1/rules", headers=h, params={"as_of": "2025-07-01"})).json()
    allowed = next(r for r in rules["items"] if r["id"] == "organizations.allowed_parents")
    assert "province" in allowed["value"]["grassroots_committee"] and allowed["source"]


async def test_moves_that_make_no_sense_are_refused_with_nothing_written(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    counts = await _counts(svc)

    async def move(code: str, parent: str, on: str) -> Any:
        return await svc.client.post(
            f"/v1/organizations/{ids[code]}/move",
            headers=h,
            json={"parent_id": ids[parent], "effective_on": on},
        )

    r = await move("NA.HD", "NA.HD.XA", "2025-07-01")  # under its own descendant
    assert r.status_code == 422 and r.json()["type"].endswith("/cycle")
    r = await move("NA.HD.XA", "NA.HD.XA", "2025-07-01")  # under itself
    assert r.status_code == 422 and r.json()["type"].endswith("/cycle")
    r = await move("NA.HD.XA", "NA.TC", "2019-01-01")  # before it existed
    assert r.status_code == 404
    r = await move("NA.HD.XA", "NA.TC.XB", "2025-07-01")  # grassroots committee under grassroots committee
    assert r.status_code == 422 and r.json()["type"].endswith("/rule-violation")
    assert await _counts(svc) == counts
    ok = await move("NA.HD.XA", "NA.TC", "2025-07-01")
    assert ok.status_code == 200
    r = await move("NA.HD.XA", "NA.TC", "2025-03-01")  # earlier than a change already recorded
    assert r.status_code == 422 and r.json()["type"].endswith("/out-of-order")


async def test_a_merge_that_fails_halfway_leaves_nothing(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    counts = await _counts(svc)
    # The second source's child cannot sit under the target (a cell under an upper-grassroots committee),
    # after the first source's children were already moved inside the transaction.
    r = await svc.client.post(
        "/v1/organizations/merge",
        headers=h,
        json={
            "source_ids": [ids["NA.HD"], ids["NA.TC.XB"]],
            "target_id": ids["NA.TC"],
            "effective_on": "2025-07-01",
        },
    )
    assert r.status_code == 422, r.text
    assert await _counts(svc) == counts


async def test_list_filters_search_without_diacritics_and_pages_by_code(small_tree: Tree) -> None:
    svc, h = small_tree.svc, small_tree.headers
    r = await svc.client.get("/v1/organizations", headers=h, params={"q": "hung dao"})
    assert [o["code"] for o in r.json()["items"]] == ["NA.HD.XA"]
    r = await svc.client.get("/v1/organizations", headers=h, params={"q": "THANH ĐỒNG"})
    assert [o["code"] for o in r.json()["items"]] == ["NA.TC.XB"]
    r = await svc.client.get("/v1/organizations", headers=h, params={"level": "cell"})
    assert [o["code"] for o in r.json()["items"]] == ["NA.HD.XA.C1", "NA.TC.XB.C2"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await svc.client.get("/v1/organizations", headers=h, params=params)).json()
        seen += [o["code"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(small_tree.ids)
    bad = await svc.client.get("/v1/organizations", headers=h, params={"cursor": "%%%"})
    assert bad.status_code == 422
    too_many = await svc.client.get("/v1/organizations", headers=h, params={"limit": 501})
    assert too_many.status_code == 422


async def test_ancestors_and_tree_depth(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    anc = (await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA.C1']}/ancestors", headers=h)).json()
    assert [o["code"] for o in anc["items"]] == ["NA", "NA.HD", "NA.HD.XA", "NA.HD.XA.C1"]
    shallow = (await svc.client.get(f"/v1/organizations/{ids['NA']}/tree", headers=h)).json()
    assert {c["code"] for c in shallow["children"]} == {"NA.HD", "NA.TC"}
    assert all(c["children"] == [] for c in shallow["children"])
    too_deep = await svc.client.get(f"/v1/organizations/{ids['NA']}/tree", headers=h, params={"depth": 11})
    assert too_deep.status_code == 422


async def test_idempotency_key_replays_the_first_answer(orgs: Any) -> None:
    h = {**orgs.auth(["admin"]), "Idempotency-Key": "k-1"}
    body = {
        "code": "NA",
        "name": "Tỉnh",
        "level": "province",
        "kind": "other",
        "established_on": "2020-01-01",
    }
    first = await orgs.client.post("/v1/organizations", json=body, headers=h)
    again = await orgs.client.post("/v1/organizations", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = await orgs.client.post("/v1/organizations", json={**body, "code": "NB"}, headers=h)
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert (await _counts(orgs))[0] == 1


async def test_duplicate_code_is_a_conflict(small_tree: Tree) -> None:
    r = await small_tree.svc.client.post(
        "/v1/organizations",
        headers=small_tree.headers,
        json={
            "code": "NA",
            "name": "again",
            "level": "province",
            "kind": "other",
            "established_on": "2020-01-01",
        },
    )
    assert r.status_code == 409


async def test_each_change_writes_its_event_to_the_outbox(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    await svc.client.post(
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        headers=h,
        json={"parent_id": ids["NA.TC"], "effective_on": "2025-07-01"},
    )
    async with svc.app.state.db.session() as s:
        rows = (await s.execute(select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq))).all()
    subjects = [r.subject for r in rows]
    assert subjects.count("tochuc.orgs.organization.established.v1") == 7
    assert subjects[-1] == "tochuc.orgs.organization.moved.v1"
    import json

    moved = json.loads(rows[-1].payload)
    assert moved["subject"] == ids["NA.HD.XA"] and moved["sequence"] == 2
    assert moved["data"] == {
        "id": ids["NA.HD.XA"],
        "from_parent_id": ids["NA.HD"],
        "to_parent_id": ids["NA.TC"],
        "effective_on": "2025-07-01",
        "decision_no": None,
    }
