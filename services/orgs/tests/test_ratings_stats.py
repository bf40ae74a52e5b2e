"""Annual ratings of organizations and the threshold report (members, children, rulebook findings)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from services.orgs.ratings.models import OrganizationRating
from services.orgs.tests.conftest import Tree
from services.orgs.tests.units_support import add_member
from shared.outbox import outbox


async def _rated_events(svc: Any) -> list[dict[str, Any]]:
    async with svc.app.state.db.session() as s:
        payloads = (await s.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars().all()
    events = [json.loads(p) for p in payloads]
    return [e for e in events if e["type"] == "vn.tochuc.orgs.organization.rated.v1"]


async def _rating_rows(svc: Any) -> int:
    async with svc.app.state.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(OrganizationRating))).scalar_one())


# ------------------------------------------------------------------------------------------------ ratings


async def test_a_rating_is_recorded_with_its_event_and_the_latest_of_a_year_wins(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    url = f"/v1/organizations/{ids['NA.HD.XA']}"
    version = (await svc.client.get(url, headers=h)).json()["version"]
    r = await svc.client.put(f"{url}/ratings/2024", json={"rating": "good"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["org_id"] == ids["NA.HD.XA"] and body["year"] == 2024 and body["rating"] == "good"
    assert body["version"] == version + 1 and r.headers["etag"] == f'"{version + 1}"'
    assert body["recorded_by"] == "tester"
    # The organization's version moved with it: the event's sequence is that version.
    assert (await svc.client.get(url, headers=h)).json()["version"] == version + 1
    (event,) = await _rated_events(svc)
    assert event["subject"] == ids["NA.HD.XA"] and event["sequence"] == version + 1
    assert event["data"] == {"id": ids["NA.HD.XA"], "year": 2024, "rating": "good"}

    # A correction is a new record; the latest recorded is in force. The same rating again changes nothing.
    r = await svc.client.put(f"{url}/ratings/2024", json={"rating": "excellent"}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == version + 2
    await svc.client.put(f"{url}/ratings/2023", json={"rating": "completed"}, headers=h)
    again = await svc.client.put(f"{url}/ratings/2024", json={"rating": "excellent"}, headers=h)
    assert again.status_code == 200 and again.json()["version"] == version + 3
    assert await _rating_rows(svc) == 3
    assert [e["sequence"] for e in await _rated_events(svc)] == [version + 1, version + 2, version + 3]
    listed = (await svc.client.get(f"{url}/ratings", headers=h)).json()["items"]
    assert [(i["year"], i["rating"]) for i in listed] == [(2024, "excellent"), (2023, "completed")]
    # The rating is a change of the organization: it is in its history, with what it replaced.
    history = (await svc.client.get(f"{url}/history", headers=h)).json()["items"]
    rated = [c for c in history if c["change"] == "rated"]
    assert [c["after"] for c in rated] == [
        {"year": 2024, "rating": "good"},
        {"year": 2024, "rating": "excellent"},
        {"year": 2023, "rating": "completed"},
    ]
    assert rated[1]["before"] == {"year": 2024, "rating": "good"}


@pytest.mark.parametrize(
    ("year", "body", "slug"),
    [
        (2024, {"rating": "outstanding"}, "validation"),
        (2024, {"rating": "good", "score": 95}, "validation"),
        (1929, {"rating": "good"}, "validation"),
        (dt.date.today().year + 2, {"rating": "good"}, "invalid-year"),
        (2019, {"rating": "good"}, "not-active"),  # established 2020-01-01
    ],
)
async def test_a_rating_refused_writes_nothing(small_tree: Tree, year: int, body: Any, slug: str) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    r = await svc.client.put(f"/v1/organizations/{ids['NA.HD.XA']}/ratings/{year}", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith(f"/{slug}")
    assert await _rating_rows(svc) == 0 and await _rated_events(svc) == []


async def test_a_dissolved_organization_is_rated_for_the_years_it_was_active(small_tree: Tree) -> None:
    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    url = f"/v1/organizations/{ids['NA.TC.XB.C2']}"
    assert (
        await svc.client.post(f"{url}/dissolve", json={"effective_on": "2024-03-01"}, headers=h)
    ).is_success
    assert (
        await svc.client.put(f"{url}/ratings/2024", json={"rating": "failed"}, headers=h)
    ).status_code == 200
    r = await svc.client.put(f"{url}/ratings/2025", json={"rating": "good"}, headers=h)
    assert r.status_code == 422 and r.json()["type"].endswith("/not-active")


async def test_who_may_rate(small_tree: Tree) -> None:
    svc, ids = small_tree.svc, small_tree.ids
    path = f"/v1/organizations/{ids['NA.HD.XA']}/ratings/2024"
    body = {"rating": "good"}
    viewer = svc.auth(["viewer"], org_scope=ids["NA.HD"])
    assert (await svc.client.put(path, json=body, headers=viewer)).status_code == 403
    outside = svc.auth(["organizer"], org_scope=ids["NA.TC"])
    assert (await svc.client.put(path, json=body, headers=outside)).status_code == 404
    assert (
        await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA']}/ratings", headers=outside)
    ).status_code == 404
    inside = svc.auth(["organizer"], org_scope=ids["NA.HD"])
    stale = await svc.client.put(path, json=body, headers={**inside, "If-Match": '"99"'})
    assert stale.status_code == 412
    etag = (await svc.client.get(f"/v1/organizations/{ids['NA.HD.XA']}", headers=inside)).headers["etag"]
    r = await svc.client.put(path, json=body, headers={**inside, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert await _rating_rows(svc) == 1


# ------------------------------------------------------------------------------------------------- stats


@pytest.fixture
async def membered_tree(small_tree: Tree) -> Tree:
    """small_tree plus NA.HD.GC (a grassroots cell) and NA.HD.XA.C3, with members:

    NA.HD.XA.C1: 9 official, 1 probationary, 1 who left    → elects a cell committee
    NA.HD.XA.C3: 2 official, 1 exempt                       → fewer than 3 official members
    NA.HD.XA   : 13 members in its subtree                  → a grassroots committee under 30
    NA.HD.GC   : 5 official, 24 probationary, 1 exempt = 30 → a grassroots cell of 30 or more
    NA.TC.XB.C2: 3 official                                 → nothing to report
    """
    svc, ids = small_tree.svc, small_tree.ids
    await small_tree.add("NA.HD.GC", "grassroots_cell", "NA.HD", name="Chi bộ Công ty Điện lực")
    await small_tree.add("NA.HD.XA.C3", "cell", "NA.HD.XA", kind="residential", name="Chi bộ xóm 3")
    plan = {
        "NA.HD.XA.C1": {"official": 9, "probationary": 1},
        "NA.HD.XA.C3": {"official": 2, "exempt": 1},
        "NA.HD.GC": {"official": 5, "probationary": 24, "exempt": 1},
        "NA.TC.XB.C2": {"official": 3},
    }
    for code, by_status in plan.items():
        for status, count in by_status.items():
            for _ in range(count):
                await add_member(svc, ids[code], status)
    await add_member(svc, ids["NA.HD.XA.C1"], "official", left_on="2025-01-15")
    return small_tree


async def _stats(tree: Tree, code: str, as_of: str, headers: dict[str, str] | None = None) -> Any:
    return await tree.svc.client.get(
        f"/v1/organizations/{tree.ids[code]}/stats", params={"as_of": as_of}, headers=headers or tree.headers
    )


async def test_stats_count_members_and_organizations_and_report_every_threshold(membered_tree: Tree) -> None:
    tree = membered_tree
    r = await _stats(tree, "NA.HD", "2026-01-01")
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["members_by_status"] == {"probationary": 25, "official": 16, "exempt": 2}
    assert stats["children_by_level"] == {"grassroots_committee": 1, "grassroots_cell": 1}
    assert stats["descendants_by_level"] == {"grassroots_committee": 1, "grassroots_cell": 1, "cell": 2}
    found = {(f["org_code"], f["rule"]) for f in stats["findings"]}
    assert found == {
        ("NA.HD.XA.C1", "organizations.cell_committee_min_official_members"),
        ("NA.HD.XA.C3", "organizations.min_official_members"),
        ("NA.HD.XA", "organizations.grassroots_committee_min_members"),
        ("NA.HD.GC", "organizations.grassroots_committee_min_members"),
    }
    for f in stats["findings"]:
        assert f["severity"] == "warning" and f["source"] and f["message"]
        assert f["org_id"] == tree.ids[f["org_code"]]
    assert [f["org_code"] for f in stats["findings"]] == sorted(f["org_code"] for f in stats["findings"])
    messages = {f["org_code"]: f["message"] for f in stats["findings"]}
    assert "9 official" in messages["NA.HD.XA.C1"] and "2 official" in messages["NA.HD.XA.C3"]
    assert "30 members" in messages["NA.HD.GC"] and "13 members" in messages["NA.HD.XA"]

    # One organization: its own subtree only, and nothing to report when it keeps the thresholds.
    c2 = (await _stats(tree, "NA.TC.XB.C2", "2026-01-01")).json()
    assert c2["members_by_status"] == {"probationary": 0, "official": 3, "exempt": 0}
    assert c2["children_by_level"] == {} and c2["findings"] == []
    province = (await _stats(tree, "NA", "2026-01-01")).json()
    assert province["members_by_status"] == {"probationary": 25, "official": 19, "exempt": 2}
    assert ("NA.TC.XB", "organizations.grassroots_committee_min_members") in {
        (f["org_code"], f["rule"]) for f in province["findings"]
    }


async def test_stats_answer_as_of_the_date(membered_tree: Tree) -> None:
    tree = membered_tree
    # Before 2024-01-03 nobody is official yet; before 2025-07-01 the thresholds (294-QĐ/TW) did not hold.
    early = (await _stats(tree, "NA.HD.XA.C1", "2023-06-01")).json()
    assert early["members_by_status"] == {"probationary": 11, "official": 0, "exempt": 0}
    assert early["findings"] == []
    # The member who left on 2025-01-15 counted until then.
    before = (await _stats(tree, "NA.HD.XA.C1", "2025-01-14")).json()
    after = (await _stats(tree, "NA.HD.XA.C1", "2025-01-15")).json()
    assert before["members_by_status"]["official"] == 10 and after["members_by_status"]["official"] == 9
    assert (await _stats(tree, "NA.HD", "2019-12-31")).status_code == 404  # not yet established


async def test_stats_follow_the_scope(membered_tree: Tree) -> None:
    tree = membered_tree
    viewer = tree.svc.auth(["viewer"], org_scope=tree.ids["NA.HD"])
    assert (await _stats(tree, "NA.HD.XA", "2026-01-01", viewer)).status_code == 200
    assert (await _stats(tree, "NA.TC.XB", "2026-01-01", viewer)).status_code == 404


async def test_ratings_by_year_count_the_rating_in_force_within_a_subtree(small_tree: Tree) -> None:
    """The figures of the sector report: per year and level, the latest rating of each organization."""
    from services.orgs.organizations import repository as org_repo
    from services.orgs.ratings.repository import ratings_by_year

    svc, ids, h = small_tree.svc, small_tree.ids, small_tree.headers
    given = [
        ("NA.HD.XA", 2023, "good"),
        ("NA.HD.XA", 2023, "excellent"),  # a correction: this one counts
        ("NA.HD.XA.C1", 2023, "excellent"),
        ("NA.TC.XB", 2023, "failed"),
        ("NA.HD.XA", 2024, "completed"),
        ("NA.TC.XB", 2022, "good"),
    ]
    for code, year, rating in given:
        r = await svc.client.put(
            f"/v1/organizations/{ids[code]}/ratings/{year}", json={"rating": rating}, headers=h
        )
        assert r.status_code == 200, r.text
    async with svc.app.state.db.session() as s:
        district = await org_repo.current_path(s, uuid.UUID(ids["NA.HD"]))
        assert await ratings_by_year(s, 2023, 2024, None) == {
            2023: {"excellent": 2, "failed": 1},
            2024: {"completed": 1},
        }
        assert await ratings_by_year(s, 2023, 2024, district) == {
            2023: {"excellent": 2},
            2024: {"completed": 1},
        }
