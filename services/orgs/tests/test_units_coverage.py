"""Residential units over time, their rules, and the coverage report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from services.orgs.tests.conftest import Tree
from services.orgs.tests.units_support import add_member
from services.orgs.units.models import ResidentialUnit, ResidentialUnitState


async def _counts(svc: Any) -> tuple[int, int]:
    async with svc.app.state.db.session() as s:
        return (
            (await s.execute(select(func.count()).select_from(ResidentialUnit))).scalar_one(),
            (await s.execute(select(func.count()).select_from(ResidentialUnitState))).scalar_one(),
        )


async def _unit(
    tree: Tree, name: str, commune: str, covering: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "kind": "xom", "commune_org_id": tree.ids[commune], "established_on": "2024-01-01"}
    if covering is not None:
        body["covering_org_id"] = tree.ids[covering]
    body.update(extra)
    r = await tree.svc.client.post("/v1/residential-units", json=body, headers=tree.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
async def communes(small_tree: Tree) -> Tree:
    """small_tree (NA.HD.XA and NA.TC.XB are communes) plus NA.HD.XA.C3 (a cell) and NA.HD.AG (an agency's
    grassroots cell)."""
    await small_tree.add("NA.HD.XA.C3", "cell", "NA.HD.XA", kind="residential", name="Chi bộ xóm 3")
    await small_tree.add("NA.HD.AG", "grassroots_cell", "NA.HD", kind="agency", name="Chi bộ Phòng Nội vụ")
    return small_tree


async def test_create_and_read_a_unit(communes: Tree) -> None:
    tree = communes
    unit = await _unit(tree, "Xóm Đông Hòa", "NA.HD.XA", "NA.HD.XA.C1", kind="thon")
    assert unit["name"] == "Xóm Đông Hòa" and unit["kind"] == "thon" and unit["version"] == 1
    assert (
        unit["commune_org_id"] == tree.ids["NA.HD.XA"] and unit["covering_org_id"] == tree.ids["NA.HD.XA.C1"]
    )
    assert unit["established_on"] == "2024-01-01" and unit["state_since"] == "2024-01-01"
    r = await tree.svc.client.get(f"/v1/residential-units/{unit['id']}", headers=tree.headers)
    assert r.status_code == 200 and r.json() == unit and r.headers["etag"] == '"1"'
    before = await tree.svc.client.get(
        f"/v1/residential-units/{unit['id']}", params={"as_of": "2023-12-31"}, headers=tree.headers
    )
    assert before.status_code == 404


@pytest.mark.parametrize(
    ("commune", "covering", "on", "rule"),
    [
        ("NA.HD.AG", None, "2024-01-01", "units.commune_kinds"),  # an agency is no commune
        ("NA.HD", None, "2024-01-01", "units.commune_kinds"),  # nor is a district committee
        ("NA.HD.XA", "NA.TC.XB.C2", "2024-01-01", "units.covering_levels"),  # a cell of another commune
        ("NA.HD.XA", "NA.HD.XA", "2024-01-01", "units.covering_levels"),  # the committee is no cell
        ("NA.HD.XA", "NA.HD.XA.C1", "2019-06-01", "units.commune_kinds"),  # the commune did not exist yet
    ],
)
async def test_each_placement_rule_refuses_and_names_itself(
    communes: Tree, commune: str, covering: str | None, on: str, rule: str
) -> None:
    tree = communes
    counts = await _counts(tree.svc)
    body: dict[str, Any] = {
        "name": "Xóm 9",
        "kind": "xom",
        "commune_org_id": tree.ids[commune],
        "established_on": on,
    }
    if covering:
        body["covering_org_id"] = tree.ids[covering]
    r = await tree.svc.client.post("/v1/residential-units", json=body, headers=tree.headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/rule-violation")
    assert rule in {f["rule"] for f in problem["findings"]}
    assert all(f["source"] and f["severity"] == "error" for f in problem["findings"])
    assert await _counts(tree.svc) == counts


async def test_a_dissolved_cell_cannot_cover_and_special_zones_hold_units_from_2025_07_01(
    communes: Tree,
) -> None:
    tree = communes
    h = tree.headers
    await tree.svc.client.post(
        f"/v1/organizations/{tree.ids['NA.HD.XA.C3']}/dissolve",
        json={"effective_on": "2024-05-01"},
        headers=h,
    )
    r = await tree.svc.client.post(
        "/v1/residential-units",
        json={
            "name": "Xóm 3",
            "kind": "xom",
            "commune_org_id": tree.ids["NA.HD.XA"],
            "covering_org_id": tree.ids["NA.HD.XA.C3"],
            "established_on": "2024-06-01",
        },
        headers=h,
    )
    assert r.status_code == 422 and r.json()["findings"][0]["rule"] == "units.covering_levels"
    await tree.add(
        "NA.CT", "grassroots_committee", "NA", kind="special_zone", on="2025-07-01", name="Đặc khu Cồn Cỏ"
    )
    await tree.add("NA.CT.C1", "cell", "NA.CT", kind="residential", on="2025-07-01")
    await tree.svc.client.patch(
        f"/v1/organizations/{tree.ids['NA.HD.XA']}",
        json={"kind": "special_zone", "effective_on": "2025-01-01"},
        headers=h,
    )
    # NA.HD.XA is a special zone since 2025-01-01: the rule in force then (communes and wards) refuses it.
    body = {
        "name": "Khu 1",
        "kind": "khoi",
        "commune_org_id": tree.ids["NA.HD.XA"],
        "established_on": "2025-06-30",
    }
    r = await tree.svc.client.post("/v1/residential-units", json=body, headers=h)
    assert r.status_code == 422 and r.json()["findings"][0]["rule"] == "units.commune_kinds"
    assert "72/2025" not in r.json()["findings"][0]["source"]
    ok = await _unit(tree, "Khu 1", "NA.CT", "NA.CT.C1", established_on="2025-07-01")
    assert ok["commune_org_id"] == tree.ids["NA.CT"]


async def test_patch_changes_from_its_date_with_if_match(communes: Tree) -> None:
    tree = communes
    h = tree.headers
    unit = await _unit(tree, "Xóm 1", "NA.HD.XA", "NA.HD.XA.C1")
    url = f"/v1/residential-units/{unit['id']}"
    r = await tree.svc.client.patch(
        url, json={"covering_org_id": None, "effective_on": "2025-03-01"}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.json()["covering_org_id"] is None and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    stale = await tree.svc.client.patch(
        url, json={"name": "Xóm Một", "effective_on": "2025-04-01"}, headers={**h, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.json()["type"].endswith("/stale-version")
    r = await tree.svc.client.patch(
        url,
        json={"name": "Xóm Một", "covering_org_id": tree.ids["NA.HD.XA.C3"], "effective_on": "2025-04-01"},
        headers=h,
    )
    assert r.status_code == 200, r.text

    async def on(day: str) -> dict[str, Any]:
        got = await tree.svc.client.get(url, params={"as_of": day}, headers=h)
        return got.json()  # type: ignore[no-any-return]

    assert (await on("2025-02-28"))["covering_org_id"] == tree.ids["NA.HD.XA.C1"]
    assert (await on("2025-03-01"))["covering_org_id"] is None
    latest = await on("2025-04-01")
    assert latest["covering_org_id"] == tree.ids["NA.HD.XA.C3"] and latest["name"] == "Xóm Một"
    assert latest["state_since"] == "2025-04-01" and (await on("2025-03-31"))["name"] == "Xóm 1"

    # Date order, a change that changes nothing, the rules, unknown fields.
    early = await tree.svc.client.patch(url, json={"kind": "thon", "effective_on": "2025-03-15"}, headers=h)
    assert early.status_code == 422 and early.json()["type"].endswith("/out-of-order")
    same = await tree.svc.client.patch(url, json={"name": "Xóm Một", "effective_on": "2025-05-01"}, headers=h)
    assert same.status_code == 422 and same.json()["type"].endswith("/no-change")
    bad = await tree.svc.client.patch(
        url, json={"covering_org_id": tree.ids["NA.TC.XB.C2"], "effective_on": "2025-05-01"}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["findings"][0]["rule"] == "units.covering_levels"
    extra = await tree.svc.client.patch(url, json={"version": 9, "effective_on": "2025-05-01"}, headers=h)
    assert extra.status_code == 422 and extra.json()["type"].endswith("/validation")
    # Moving to another commune (e.g. after communes merged) checks the covering cell against it.
    moved = await tree.svc.client.patch(
        url,
        json={
            "commune_org_id": tree.ids["NA.TC.XB"],
            "covering_org_id": tree.ids["NA.TC.XB.C2"],
            "effective_on": "2025-07-01",
        },
        headers=h,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["commune_org_id"] == tree.ids["NA.TC.XB"]


async def test_list_filters_orders_by_name_and_pages(communes: Tree) -> None:
    tree = communes
    h = tree.headers
    names = ["Xóm Bắc", "Thôn Đông", "thôn Đông", "Bản Na", "Xóm An"]
    created = [await _unit(tree, n, "NA.HD.XA", "NA.HD.XA.C1") for n in names]
    other = await _unit(tree, "Khối 2", "NA.TC.XB")
    from shared.text import normalize

    expected = sorted(created, key=lambda u: (normalize(u["name"]), u["id"]))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"within": tree.ids["NA.HD"], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await tree.svc.client.get("/v1/residential-units", params=params, headers=h)).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [u["id"] for u in expected]
    every = (await tree.svc.client.get("/v1/residential-units", headers=h)).json()["items"]
    assert {u["id"] for u in every} == {u["id"] for u in created} | {other["id"]}
    by_commune = (
        await tree.svc.client.get(
            "/v1/residential-units", params={"commune_org_id": tree.ids["NA.TC.XB"]}, headers=h
        )
    ).json()["items"]
    assert [u["id"] for u in by_commune] == [other["id"]]
    found = (await tree.svc.client.get("/v1/residential-units", params={"q": "dong"}, headers=h)).json()[
        "items"
    ]
    assert {u["name"] for u in found} == {"Thôn Đông", "thôn Đông"}
    early = (
        await tree.svc.client.get("/v1/residential-units", params={"as_of": "2023-12-31"}, headers=h)
    ).json()
    assert early["items"] == []


async def test_scope_of_units(communes: Tree) -> None:
    tree = communes
    unit = await _unit(tree, "Xóm 1", "NA.HD.XA", "NA.HD.XA.C1")
    url = f"/v1/residential-units/{unit['id']}"
    patch = {"name": "Xóm Mới", "effective_on": "2025-01-01"}
    outside = tree.svc.auth(["organizer"], org_scope=tree.ids["NA.TC"])
    assert (await tree.svc.client.get(url, headers=outside)).status_code == 404
    assert (await tree.svc.client.patch(url, json=patch, headers=outside)).status_code == 404
    assert (await tree.svc.client.get("/v1/residential-units", headers=outside)).json()["items"] == []
    body = {"name": "Xóm 2", "kind": "xom", "commune_org_id": tree.ids["NA.HD.XA"]}
    assert (
        await tree.svc.client.post("/v1/residential-units", json=body, headers=outside)
    ).status_code == 403
    viewer = tree.svc.auth(["viewer"], org_scope=tree.ids["NA.HD"])
    assert (await tree.svc.client.get(url, headers=viewer)).status_code == 200
    assert (await tree.svc.client.patch(url, json=patch, headers=viewer)).status_code == 403
    assert (await tree.svc.client.post("/v1/residential-units", json=body, headers=viewer)).status_code == 403
    inside = tree.svc.auth(["organizer"], org_scope=tree.ids["NA.HD.XA"])
    assert (await tree.svc.client.patch(url, json=patch, headers=inside)).status_code == 200
    cov = await tree.svc.client.get("/v1/coverage", params={"within": tree.ids["NA.TC"]}, headers=viewer)
    assert cov.status_code == 404


# ---------------------------------------------------------------------------------------------- coverage


@dataclass
class UnitModel:
    """What the test knows of a unit, to compute coverage independently of the service."""

    name: str
    commune: str
    cells: list[tuple[str, str | None]] = field(default_factory=list)  # (from, cell code or None)
    residents: list[tuple[str, str | None]] = field(default_factory=list)  # (admitted_on, left_on)
    id: str = ""

    def cell_on(self, day: str) -> str | None:
        current = None
        for since, cell in self.cells:
            if since <= day:
                current = cell
        return current

    def inhabited_on(self, day: str) -> bool:
        return any(a <= day and (left is None or day < left) for a, left in self.residents)


async def test_coverage_lists_units_without_a_cell_or_members_as_of_each_date(communes: Tree) -> None:
    tree = communes
    h = tree.headers
    cell_ends = {"NA.HD.XA.C3": "2025-05-01"}  # dissolved then
    await tree.svc.client.post(
        f"/v1/organizations/{tree.ids['NA.HD.XA.C3']}/dissolve",
        json={"effective_on": "2025-05-01"},
        headers=h,
    )
    units = [
        UnitModel("Xóm 1", "NA.HD.XA", [("2024-01-01", "NA.HD.XA.C1")], [("2023-01-02", None)]),
        UnitModel("Xóm 2", "NA.HD.XA", [("2024-01-01", None), ("2025-02-01", "NA.HD.XA.C1")]),
        UnitModel("Xóm 3", "NA.HD.XA", [("2024-01-01", "NA.HD.XA.C3")], [("2023-01-02", "2025-03-01")]),
        UnitModel(
            "Xóm 4", "NA.HD.XA", [("2024-01-01", "NA.HD.XA.C1"), ("2025-02-01", None)], [("2023-01-02", None)]
        ),
        UnitModel("Khối 5", "NA.TC.XB", [("2024-01-01", "NA.TC.XB.C2")], [("2023-01-02", None)]),
    ]
    for u in units:
        first = u.cells[0][1]
        u.id = (await _unit(tree, u.name, u.commune, first))["id"]
        for since, cell in u.cells[1:]:
            r = await tree.svc.client.patch(
                f"/v1/residential-units/{u.id}",
                json={"covering_org_id": tree.ids[cell] if cell else None, "effective_on": since},
                headers=h,
            )
            assert r.status_code == 200, r.text
        for admitted, left in u.residents:
            org = tree.ids["NA.TC.XB.C2" if u.commune == "NA.TC.XB" else "NA.HD.XA.C1"]
            await add_member(tree.svc, org, "official", unit_id=u.id, admitted_on=admitted, left_on=left)
    # A member elsewhere in the tree, living nowhere recorded, changes nothing.
    await add_member(tree.svc, tree.ids["NA.HD.XA.C1"], "probationary")

    def expected(day: str, communes: set[str]) -> tuple[int, set[str], set[str]]:
        mine = [u for u in units if u.commune in communes]
        without_cell = set()
        for u in mine:
            cell = u.cell_on(day)
            if cell is None or (cell in cell_ends and day >= cell_ends[cell]):
                without_cell.add(u.name)
        return len(mine), without_cell, {u.name for u in mine if not u.inhabited_on(day)}

    for day in (
        "2024-06-01",
        "2025-01-31",
        "2025-02-01",
        "2025-02-28",
        "2025-03-01",
        "2025-05-01",
        "2026-01-01",
    ):
        for within, communes_in in (("NA", {"NA.HD.XA", "NA.TC.XB"}), ("NA.HD", {"NA.HD.XA"})):
            r = await tree.svc.client.get(
                "/v1/coverage", params={"within": tree.ids[within], "as_of": day}, headers=h
            )
            assert r.status_code == 200, r.text
            got = r.json()
            total, no_cell, no_members = expected(day, communes_in)
            assert got["units"] == total, (day, within)
            assert {u["name"] for u in got["without_cell"]} == no_cell, (day, within)
            assert {u["name"] for u in got["without_members"]} == no_members, (day, within)
    # Without `within`: the caller's scope.
    scoped = tree.svc.auth(["viewer"], org_scope=tree.ids["NA.TC"])
    got = (await tree.svc.client.get("/v1/coverage", params={"as_of": "2026-01-01"}, headers=scoped)).json()
    assert got["units"] == 1 and got["without_cell"] == [] and got["without_members"] == []
    # Nothing recorded yet on an early date.
    early = (await tree.svc.client.get("/v1/coverage", params={"as_of": "2023-06-01"}, headers=h)).json()
    assert early["units"] == 0


def test_unit_model_is_sane() -> None:
    u = UnitModel("x", "c", [("2024-01-01", "a"), ("2025-01-01", None)], [("2024-01-01", "2024-06-01")])
    assert u.cell_on("2024-12-31") == "a" and u.cell_on("2025-01-01") is None
    assert u.inhabited_on("2024-05-31") and not u.inhabited_on("2024-06-01")
