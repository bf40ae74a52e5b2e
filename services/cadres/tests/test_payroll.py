"""Payroll: append-only entries (the latest wins), their event, and the streamlining rate over a subtree."""

from __future__ import annotations

from typing import Any

from services.cadres.tests.planning_support import events_of, tree


async def test_set_payroll_entries_versions_scope_and_event(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "YA")
    personnel = cadres.auth(["personnel"])
    url = f"/v1/payroll/{ids['A']}/2022/civil_servant"
    r = await cadres.client.put(url, json={"allocated": 21, "actual": 20}, headers=personnel)
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["allocated"] == 21 and entry["actual"] == 20 and entry["version"] == 1
    assert r.headers["etag"] == '"1"'
    r = await cadres.client.put(
        url, json={"allocated": 19, "actual": 20}, headers={**personnel, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = await cadres.client.put(
        url, json={"allocated": 1, "actual": 1}, headers={**personnel, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    got = await cadres.client.get(url, headers=cadres.auth(["viewer"]))
    assert got.json()["allocated"] == 19 and got.json()["version"] == 2  # the latest wins
    assert (await cadres.client.get(url.replace("2022", "2023"), headers=personnel)).status_code == 404
    viewer = await cadres.client.put(url, json={"allocated": 1, "actual": 1}, headers=cadres.auth(["viewer"]))
    assert viewer.status_code == 403
    outside = await cadres.client.put(
        url, json={"allocated": 1, "actual": 1}, headers=cadres.auth(["personnel"], org_scope=ids["B"])
    )
    assert outside.status_code == 404
    bad = await cadres.client.put(
        url.replace("civil_servant", "soldier"), json={"allocated": 1, "actual": 1}, headers=personnel
    )
    assert bad.status_code == 422
    negative = await cadres.client.put(url, json={"allocated": -1, "actual": 1}, headers=personnel)
    assert negative.status_code == 422
    events = await events_of(cadres, "tochuc.cadres.payroll.set.v1")
    assert [e["sequence"] for e in events] == [1, 2] and {e["subject"] for e in events} == {ids["A"]}
    assert events[-1]["data"] == {
        "org_id": ids["A"], "year": 2022, "category": "civil_servant", "allocated": 19, "actual": 20
    }  # fmt: skip


async def test_streamlining_rate_over_a_subtree(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "YB")
    personnel = cadres.auth(["personnel"])

    async def put(org: str, year: int, category: str, allocated: int) -> None:
        r = await cadres.client.put(
            f"/v1/payroll/{ids[org]}/{year}/{category}",
            json={"allocated": allocated, "actual": allocated},
            headers=personnel,
        )
        assert r.status_code == 200, r.text

    # A's subtree (A and X): civil servants 600 + 400 = 1000 in 2021 → 540 + 360 = 900 in 2026: 10 %.
    await put("A", 2021, "civil_servant", 600)
    await put("X", 2021, "civil_servant", 400)
    await put("A", 2026, "civil_servant", 540)
    await put("X", 2026, "civil_servant", 350)
    await put("X", 2026, "civil_servant", 360)  # a correction: the latest entry counts
    # Public employees: 5000 → 4499 is 10.02 %.
    await put("A", 2021, "public_employee", 5000)
    await put("A", 2026, "public_employee", 4499)
    # B, outside A's subtree: 100 → 100 civil servants, 1000 → 901 public employees.
    await put("B", 2021, "civil_servant", 100)
    await put("B", 2026, "civil_servant", 100)
    await put("B", 2021, "public_employee", 1000)
    await put("B", 2026, "public_employee", 901)

    async def report(**params: Any) -> dict[str, Any]:
        r = await cadres.client.get(
            "/v1/payroll/streamlining", params=params, headers=cadres.auth(["viewer"])
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    a = await report(within=ids["A"], year=2026)
    assert a["civil_servant"] == {
        "baseline_year": 2021, "year": 2026, "baseline": 1000, "allocated": 900, "rate": 0.1, "target": 0.05,
        "met": True,
    }  # fmt: skip
    assert a["public_employee"] == {
        "baseline_year": 2021, "year": 2026, "baseline": 5000, "allocated": 4499, "rate": 0.1002,
        "target": 0.1, "met": True,
    }  # fmt: skip
    b = await report(within=ids["B"], year=2026, baseline_year=2021)
    assert b["civil_servant"]["rate"] == 0.0 and b["civil_servant"]["met"] is False
    # Just short of 10 %.
    assert b["public_employee"]["rate"] == 0.099 and b["public_employee"]["met"] is False
    province = await report(year=2026)
    assert province["civil_servant"]["baseline"] == 1100 and province["civil_servant"]["allocated"] == 1000
    assert province["civil_servant"]["rate"] == 0.0909  # 100 / 1100, rounded to 4 places
    # Public employees: 6000 → 5400, exactly the 10 % target.
    assert province["public_employee"]["rate"] == 0.1 and province["public_employee"]["met"] is True
    # No baseline: no rate. After 2026 no target of Kết luận 40-KL/TW is in force.
    none = await report(within=ids["X"], year=2026, baseline_year=2020)
    assert none["civil_servant"]["baseline"] == 0 and none["civil_servant"]["rate"] is None
    assert none["civil_servant"]["met"] is None
    later = await report(within=ids["A"], year=2027)
    assert later["civil_servant"]["target"] is None and later["civil_servant"]["met"] is None
    # Scope: a viewer of B sees B only; A is not there for them.
    scoped = await cadres.client.get(
        "/v1/payroll/streamlining", params={"year": 2026}, headers=cadres.auth(["viewer"], org_scope=ids["B"])
    )
    assert scoped.json()["civil_servant"]["baseline"] == 100
    hidden = await cadres.client.get(
        "/v1/payroll/streamlining",
        params={"year": 2026, "within": ids["A"]},
        headers=cadres.auth(["viewer"], org_scope=ids["B"]),
    )
    assert hidden.status_code == 404
