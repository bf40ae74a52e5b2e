"""API tests of Party members over time: the lifecycle and its rules, "the members of X on D", merges and
dissolutions carrying people, sensitive fields by role with their audit, search, order and ratings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from services.orgs.members.models import Member, MemberChange, MemberRating, MemberState, SensitiveRead
from services.orgs.tests.conftest import Tree
from shared.outbox import outbox

SENSITIVE = {"national_id", "ethnicity", "religion"}


class People:
    """Admits and changes members through the API as the tree's caller (admin by default)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.svc = tree.svc
        self.ids: dict[str, str] = {}

    async def admit(
        self,
        name: str,
        org: str,
        *,
        on: str = "2021-01-10",
        born: str = "1990-05-01",
        expected: int = 201,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "full_name": name,
            "birth_date": born,
            "gender": "female" if " Thị " in name else "male",
            "org_id": self.tree.ids[org],
            "admitted_on": on,
            **extra,
        }
        r = await self.svc.client.post("/v1/members", json=body, headers=headers or self.tree.headers)
        assert r.status_code == expected, r.text
        if expected == 201:
            self.ids[name] = r.json()["id"]
        return r.json()

    async def act(
        self,
        name: str,
        action: str,
        body: dict[str, Any],
        expected: int = 200,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        r = await self.svc.client.post(
            f"/v1/members/{self.ids[name]}/{action}", json=body, headers=headers or self.tree.headers
        )
        assert r.status_code == expected, r.text
        return r.json()

    async def get(
        self, name: str, as_of: str, headers: dict[str, str] | None = None, expected: int = 200
    ) -> dict[str, Any]:
        r = await self.svc.client.get(
            f"/v1/members/{self.ids[name]}", params={"as_of": as_of}, headers=headers or self.tree.headers
        )
        assert r.status_code == expected, r.text
        return r.json()

    async def names(self, headers: dict[str, str] | None = None, **params: str) -> list[str]:
        """Full names listed (every page), in the list's order."""
        out: list[str] = []
        query: dict[str, Any] = dict(params)
        while True:
            r = await self.svc.client.get("/v1/members", params=query, headers=headers or self.tree.headers)
            assert r.status_code == 200, r.text
            page = r.json()
            for item in page["items"]:
                assert not SENSITIVE & item.keys(), item  # never in lists
            out += [m["full_name"] for m in page["items"]]
            if not page["next_cursor"]:
                return out
            query["cursor"] = page["next_cursor"]

    async def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        async with self.svc.app.state.db.session() as s:
            rows = (await s.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars().all()
        found = [json.loads(p) for p in rows]
        found = [e for e in found if e["type"].startswith("vn.tochuc.orgs.member.")]
        if kind is not None:
            found = [e for e in found if e["type"] == f"vn.tochuc.orgs.member.{kind}.v1"]
        return found

    async def count(self, model: Any) -> int:
        async with self.svc.app.state.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def people(small_tree: Tree) -> People:
    """The small tree plus two grassroots cells under NA.HD (G1, G2)."""
    await small_tree.add("NA.HD.G1", "grassroots_cell", "NA.HD", kind="school", name="Chi bộ Trường THPT 1")
    await small_tree.add("NA.HD.G2", "grassroots_cell", "NA.HD", kind="school", name="Chi bộ Trường THPT 2")
    return People(small_tree)


def _rules(problem: dict[str, Any]) -> list[str]:
    assert problem["type"] == "/problems/rule-violation", problem
    return [f["rule"] for f in problem["findings"]]


# ------------------------------------------------------------------------------------------- admission


async def test_admit_answers_the_member_with_location_etag_history_and_an_event(people: People) -> None:
    svc = people.svc
    r = await svc.client.post(
        "/v1/members",
        headers=people.tree.headers,
        json={
            "full_name": "  Nguyễn Thị   Lan ",
            "birth_date": "1998-04-12",
            "gender": "female",
            "org_id": people.tree.ids["NA.HD.XA.C1"],
            "admitted_on": "2024-05-19",
            "ethnicity": "Thái",
            "religion": "Không",
            "national_id": "040198000123",
            "member_no": "012345NA",
            "decision_no": "125-QĐ/ĐU",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/v1/members/{body['id']}" and r.headers["etag"] == '"1"'
    assert r.headers["cache-control"] == "no-store"
    assert body["full_name"] == "Nguyễn Thị Lan" and body["status"] == "probationary"
    assert body["org_id"] == people.tree.ids["NA.HD.XA.C1"] and body["state_since"] == "2024-05-19"
    assert body["ethnicity"] == "Thái" and body["national_id"] == "040198000123"  # admin may read them
    assert body["sensitive_omitted"] is False and body["temporary"] is None
    (event,) = await people.events("admitted")
    assert event["subject"] == body["id"] and event["sequence"] == 1
    assert event["data"] == {
        "id": body["id"],
        "org_id": people.tree.ids["NA.HD.XA.C1"],
        "full_name": "Nguyễn Thị Lan",
        "gender": "female",
        "birth_date": "1998-04-12",
        "admitted_on": "2024-05-19",
    }
    assert await people.count(MemberChange) == 1
    # Before the admission the member does not exist.
    r = await svc.client.get(
        f"/v1/members/{body['id']}", params={"as_of": "2024-05-18"}, headers=people.tree.headers
    )
    assert r.status_code == 404


async def test_admission_rules_name_the_rule_and_write_nothing(people: People) -> None:
    young = await people.admit("Trẻ Quá", "NA.HD.XA.C1", born="2003-01-11", on="2021-01-10", expected=422)
    assert _rules(young) == ["members.admission_age"] and young["findings"][0]["source"].startswith("Điều lệ")
    old = await people.admit("Già Quá", "NA.HD.XA.C1", born="1960-01-09", on="2021-01-10", expected=422)
    assert _rules(old) == ["members.admission_age"]
    # Exactly 18 and exactly 60 are admitted.
    await people.admit("Vừa Mười Tám", "NA.HD.XA.C1", born="2003-01-10", on="2021-01-10")
    await people.admit("Vừa Sáu Mươi", "NA.HD.XA.C1", born="1961-01-10", on="2021-01-10")
    committee = await people.admit("Sai Cấp", "NA.HD.XA", expected=422)
    assert _rules(committee) == ["members.admission_levels"]
    before_established = await people.admit("Quá Sớm", "NA.HD.XA.C1", on="2019-06-01", expected=422)
    assert _rules(before_established) == ["members.admission_levels"]
    r = await people.svc.client.post(
        f"/v1/organizations/{people.tree.ids['NA.HD.G2']}/dissolve",
        headers=people.tree.headers,
        json={"effective_on": "2022-01-01"},
    )
    assert r.status_code == 200, r.text
    dissolved = await people.admit("Chi Bộ Giải Thể", "NA.HD.G2", on="2022-06-01", expected=422)
    assert _rules(dissolved) == ["members.admission_levels"]
    # Backdated into an organization that ends later: refused too (it would strand the member).
    ends_later = await people.admit("Về Sau", "NA.HD.G2", on="2021-06-01", expected=422)
    assert _rules(ends_later) == ["members.admission_levels"]
    for bad in ({"member_no": "12345NA"}, {"national_id": "12345"}, {"gender": "other"}, {"role": "admin"}):
        r = await people.admit("Sai Dữ Liệu", "NA.HD.XA.C1", expected=422, **bad)
        assert r["type"] == "/problems/validation"
    await people.admit("Có Số", "NA.HD.XA.C1", member_no="000001NA")
    dup = await people.admit("Trùng Số", "NA.HD.XA.C1", member_no="000001NA", expected=409)
    assert dup["type"] == "/problems/duplicate-member-no"
    assert await people.count(Member) == 3 and await people.count(MemberState) == 3
    assert len(await people.events()) == 3


# ------------------------------------------------------------------------------------------- lifecycle


async def test_recognition_waits_twelve_months_and_only_for_probationary_members(people: People) -> None:
    await people.admit("Hồ Văn Nam", "NA.HD.XA.C1", on="2021-01-10")
    early = await people.act("Hồ Văn Nam", "recognition", {"recognized_on": "2022-01-09"}, 422)
    assert (
        _rules(early) == ["members.probation_months"]
        and early["findings"][0]["source"] == "Điều lệ Đảng, điều 5"
    )
    before = await people.act("Hồ Văn Nam", "recognition", {"recognized_on": "2020-01-09"}, 422)
    assert before["type"] == "/problems/out-of-order"
    body = {"recognized_on": "2022-01-10", "decision_no": "12-QĐ/ĐU", "card_no": "01234567"}
    member = await people.act("Hồ Văn Nam", "recognition", body)
    assert member["status"] == "official" and member["recognized_on"] == "2022-01-10"
    assert member["card_no"] == "01234567" and member["version"] == 2
    assert (await people.get("Hồ Văn Nam", "2022-01-09"))["status"] == "probationary"
    again = await people.act("Hồ Văn Nam", "recognition", {"recognized_on": "2023-01-10"}, 422)
    assert again["type"] == "/problems/not-probationary"
    (event,) = await people.events("recognized")
    assert event["sequence"] == 2 and event["data"] == {
        "id": people.ids["Hồ Văn Nam"],
        "org_id": people.tree.ids["NA.HD.XA.C1"],
        "recognized_on": "2022-01-10",
    }


async def test_an_official_transfer_moves_the_member_exactly_from_its_date(people: People) -> None:
    ids = people.tree.ids
    await people.admit("Hồ Văn Nam", "NA.HD.XA.C1", on="2021-01-10")
    await people.admit("Lê Thị Hoa", "NA.HD.XA.C1", on="2021-01-10")
    body = {"to_org_id": ids["NA.TC.XB.C2"], "kind": "official", "effective_on": "2023-03-01"}
    moved = await people.act("Hồ Văn Nam", "transfers", body)
    assert moved["org_id"] == ids["NA.TC.XB.C2"] and moved["state_since"] == "2023-03-01"
    c1, c2 = ids["NA.HD.XA.C1"], ids["NA.TC.XB.C2"]
    assert await people.names(org_id=c1, as_of="2023-02-28") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    assert await people.names(org_id=c1, as_of="2023-03-01") == ["Lê Thị Hoa"]
    assert await people.names(org_id=c2, as_of="2023-02-28") == []
    assert await people.names(org_id=c2, as_of="2023-03-01") == ["Hồ Văn Nam"]
    assert await people.names(within=ids["NA.TC"], as_of="2023-02-28") == []
    assert await people.names(within=ids["NA.TC"], as_of="2023-03-01") == ["Hồ Văn Nam"]
    assert await people.names(within=ids["NA.HD"], as_of="2023-03-01") == ["Lê Thị Hoa"]
    assert await people.names(within=ids["NA"], as_of="2023-03-01") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    assert (await people.get("Hồ Văn Nam", "2023-02-28"))["org_id"] == c1
    (event,) = await people.events("transferred")
    assert event["data"] == {
        "id": people.ids["Hồ Văn Nam"],
        "from_org_id": c1,
        "to_org_id": c2,
        "kind": "official",
        "effective_on": "2023-03-01",
        "until": None,
    }
    # Refusals, each writing nothing.
    same = await people.act("Hồ Văn Nam", "transfers", {**body, "effective_on": "2023-04-01"}, 422)
    assert same["type"] == "/problems/same-organization"
    committee = {"to_org_id": ids["NA.HD.XA"], "kind": "official", "effective_on": "2023-04-01"}
    assert _rules(await people.act("Hồ Văn Nam", "transfers", committee, 422)) == ["members.admission_levels"]
    earlier = {"to_org_id": c1, "kind": "official", "effective_on": "2023-02-01"}
    assert (await people.act("Hồ Văn Nam", "transfers", earlier, 422))["type"] == "/problems/out-of-order"
    no_until = {"to_org_id": c1, "kind": "temporary", "effective_on": "2023-04-01"}
    assert (await people.act("Hồ Văn Nam", "transfers", no_until, 422))["type"] == "/problems/validation"
    await people.svc.client.post(
        f"/v1/organizations/{ids['NA.HD.G1']}/dissolve",
        headers=people.tree.headers,
        json={"effective_on": "2023-05-01"},
    )
    into_dissolved = {"to_org_id": ids["NA.HD.G1"], "kind": "official", "effective_on": "2023-06-01"}
    assert _rules(await people.act("Lê Thị Hoa", "transfers", into_dissolved, 422)) == [
        "members.admission_levels"
    ]
    assert len(await people.events("transferred")) == 1


async def test_a_temporary_transfer_lists_the_member_in_the_host_and_keeps_it_at_home(people: People) -> None:
    ids = people.tree.ids
    c1, c2 = ids["NA.HD.XA.C1"], ids["NA.TC.XB.C2"]
    await people.admit("Hồ Văn Nam", "NA.HD.XA.C1", on="2021-01-10")
    short = {"to_org_id": c2, "kind": "temporary", "effective_on": "2023-03-01", "until": "2023-05-31"}
    found = await people.act("Hồ Văn Nam", "transfers", short, 422)
    assert _rules(found) == ["members.temporary_transfer_months"]
    long = {**short, "until": "2025-03-02"}
    assert _rules(await people.act("Hồ Văn Nam", "transfers", long, 422)) == [
        "members.temporary_transfer_months"
    ]
    ok = {**short, "until": "2023-09-01"}
    member = await people.act("Hồ Văn Nam", "transfers", ok)
    assert member["org_id"] == c1  # home is unchanged
    assert member["temporary"] == {"org_id": c2, "starts_on": "2023-03-01", "until": "2023-09-01"}
    assert await people.names(org_id=c1, as_of="2023-06-01") == ["Hồ Văn Nam"]
    assert await people.names(org_id=c2, as_of="2023-06-01") == ["Hồ Văn Nam"]
    assert await people.names(within=ids["NA.TC"], as_of="2023-06-01") == ["Hồ Văn Nam"]
    assert await people.names(org_id=c2, as_of="2023-02-28") == []
    assert await people.names(org_id=c2, as_of="2023-09-01") == []
    assert (await people.get("Hồ Văn Nam", "2023-09-01"))["temporary"] is None
    overlap = {**ok, "effective_on": "2023-08-01", "until": "2023-12-01"}
    assert (await people.act("Hồ Văn Nam", "transfers", overlap, 422))[
        "type"
    ] == "/problems/temporary-overlap"
    (event,) = await people.events("transferred")
    assert event["data"]["kind"] == "temporary" and event["data"]["until"] == "2023-09-01"
    assert event["data"]["from_org_id"] == c1 and event["data"]["to_org_id"] == c2


async def test_exemption_and_departure(people: People) -> None:
    c1 = people.tree.ids["NA.HD.XA.C1"]
    await people.admit("Hồ Văn Nam", "NA.HD.XA.C1", on="2021-01-10", born="1961-02-01")
    exempt = {"effective_on": "2023-01-01", "reason": "tuổi cao, sức yếu"}
    assert (await people.act("Hồ Văn Nam", "exemption", exempt, 422))["type"] == "/problems/not-official"
    await people.act("Hồ Văn Nam", "recognition", {"recognized_on": "2022-01-10"})
    member = await people.act("Hồ Văn Nam", "exemption", exempt)
    assert member["status"] == "exempt"
    (event,) = await people.events("exempted")
    assert event["data"] == {"id": people.ids["Hồ Văn Nam"], "effective_on": "2023-01-01"}
    early = {"reason": "deceased", "effective_on": "2022-12-31"}
    assert (await people.act("Hồ Văn Nam", "departure", early, 422))["type"] == "/problems/out-of-order"
    left = await people.act("Hồ Văn Nam", "departure", {"reason": "deceased", "effective_on": "2024-02-01"})
    assert left["status"] == "left" and left["left_reason"] == "deceased"
    (event,) = await people.events("departed")
    assert event["data"] == {
        "id": people.ids["Hồ Văn Nam"],
        "org_id": c1,
        "reason": "deceased",
        "effective_on": "2024-02-01",
    }
    assert await people.names(org_id=c1, as_of="2024-01-31") == ["Hồ Văn Nam"]
    assert await people.names(org_id=c1, as_of="2024-02-01") == []
    assert await people.names(org_id=c1, as_of="2024-02-01", status="left") == ["Hồ Văn Nam"]
    assert await people.names(org_id=c1, as_of="2024-02-01", status="all") == ["Hồ Văn Nam"]
    assert await people.names(org_id=c1, as_of="2023-06-01", status="exempt") == ["Hồ Văn Nam"]
    again = await people.act(
        "Hồ Văn Nam", "departure", {"reason": "withdrawn", "effective_on": "2024-03-01"}, 422
    )
    assert again["type"] == "/problems/member-left"
    transfer = {"to_org_id": people.tree.ids["NA.TC.XB.C2"], "kind": "official", "effective_on": "2024-03-01"}
    assert (await people.act("Hồ Văn Nam", "transfers", transfer, 422))["type"] == "/problems/member-left"
    r = await people.svc.client.get(f"/v1/members/{people.ids['Hồ Văn Nam']}", headers=people.tree.headers)
    assert r.headers["etag"] == '"4"'
    stale = await people.svc.client.post(
        f"/v1/members/{people.ids['Hồ Văn Nam']}/departure",
        json={"reason": "withdrawn", "effective_on": "2024-03-01"},
        headers={**people.tree.headers, "If-Match": '"3"'},
    )
    assert stale.status_code == 412


# ----------------------------------------------------------------- merges and dissolutions carry people


async def test_a_merge_carries_the_members_of_the_sources_to_the_target(people: People) -> None:
    ids = people.tree.ids
    g1, g2 = ids["NA.HD.G1"], ids["NA.HD.G2"]
    await people.admit("Hồ Văn Nam", "NA.HD.G1")
    await people.admit("Lê Thị Hoa", "NA.HD.G1")
    await people.admit("Trần Văn Bình", "NA.HD.G2")
    left = await people.admit("Đã Ra Đi", "NA.HD.G1")
    await people.act("Đã Ra Đi", "departure", {"reason": "withdrawn", "effective_on": "2022-01-01"})
    r = await people.svc.client.post(
        "/v1/organizations/merge",
        headers=people.tree.headers,
        json={"source_ids": [g1], "target_id": g2, "effective_on": "2025-07-01", "decision_no": "9-QĐ/TU"},
    )
    assert r.status_code == 200, r.text
    assert await people.names(org_id=g1, as_of="2025-06-30") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    assert await people.names(org_id=g2, as_of="2025-06-30") == ["Trần Văn Bình"]
    assert await people.names(org_id=g1, as_of="2025-07-01") == []
    assert await people.names(org_id=g2, as_of="2025-07-01") == ["Trần Văn Bình", "Lê Thị Hoa", "Hồ Văn Nam"]
    moved = await people.events("transferred")
    assert sorted(e["subject"] for e in moved) == sorted([people.ids["Hồ Văn Nam"], people.ids["Lê Thị Hoa"]])
    for event in moved:
        assert event["data"]["from_org_id"] == g1 and event["data"]["to_org_id"] == g2
        assert event["data"]["kind"] == "official" and event["data"]["effective_on"] == "2025-07-01"
    # The member who had left stays in the merged organization's history.
    assert (await people.get("Đã Ra Đi", "2025-07-02"))["org_id"] == g1
    assert left["id"] not in {e["subject"] for e in moved}


async def test_a_merge_into_a_committee_cannot_take_members_and_writes_nothing(people: People) -> None:
    ids = people.tree.ids
    await people.admit("Hồ Văn Nam", "NA.HD.G1")
    before = await people.count(MemberState), len(await people.events())
    r = await people.svc.client.post(
        "/v1/organizations/merge",
        headers=people.tree.headers,
        json={"source_ids": [ids["NA.HD.G1"]], "target_id": ids["NA.HD.XA"], "effective_on": "2025-07-01"},
    )
    assert r.status_code == 422 and _rules(r.json()) == ["members.admission_levels"]
    assert (await people.count(MemberState), len(await people.events())) == before
    assert (await people.get("Hồ Văn Nam", "2025-08-01"))["org_id"] == ids["NA.HD.G1"]


async def test_a_dissolution_with_members_needs_transfer_to_a_cell(people: People) -> None:
    ids = people.tree.ids
    c1, c2 = ids["NA.HD.XA.C1"], ids["NA.TC.XB.C2"]
    await people.admit("Hồ Văn Nam", "NA.HD.XA.C1")
    await people.admit("Lê Thị Hoa", "NA.HD.XA.C1")
    url = f"/v1/organizations/{c1}/dissolve"
    h = people.tree.headers
    r = await people.svc.client.post(url, headers=h, json={"effective_on": "2025-07-01"})
    assert r.status_code == 422 and r.json()["type"] == "/problems/has-active-members"
    r = await people.svc.client.post(
        url, headers=h, json={"effective_on": "2025-07-01", "transfer_to": ids["NA.HD.XA"]}
    )
    assert r.status_code == 422 and _rules(r.json()) == ["members.admission_levels"]
    r = await people.svc.client.post(url, headers=h, json={"effective_on": "2025-07-01", "transfer_to": c1})
    assert r.status_code == 422 and r.json()["type"] == "/problems/cycle"
    # A member's change recorded after the dissolution date makes it out of order.
    await people.act("Lê Thị Hoa", "recognition", {"recognized_on": "2025-08-01"})
    r = await people.svc.client.post(url, headers=h, json={"effective_on": "2025-07-01", "transfer_to": c2})
    assert r.status_code == 422 and r.json()["type"] == "/problems/out-of-order"
    assert await people.events("transferred") == []
    r = await people.svc.client.post(url, headers=h, json={"effective_on": "2025-09-01", "transfer_to": c2})
    assert r.status_code == 200 and r.json()["status"] == "dissolved"
    assert await people.names(org_id=c1, as_of="2025-08-31") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    assert await people.names(org_id=c1, as_of="2025-09-01") == []
    assert await people.names(org_id=c2, as_of="2025-09-01") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    assert await people.names(within=ids["NA.TC"], as_of="2025-09-01") == ["Lê Thị Hoa", "Hồ Văn Nam"]
    moved = await people.events("transferred")
    assert len(moved) == 2 and {e["data"]["to_org_id"] for e in moved} == {c2}
    hoa = await people.get("Lê Thị Hoa", "2025-09-01")
    assert hoa["status"] == "official" and hoa["org_id"] == c2
    # Sequences per member keep increasing: admitted 1, recognized 2, transferred 3.
    assert [e["sequence"] for e in await people.events() if e["subject"] == people.ids["Lê Thị Hoa"]] == [
        1,
        2,
        3,
    ]


# -------------------------------------------------------------------------------- sensitive fields


# (roles, scope code or None, sees the member, sees the sensitive fields)
ROLE_MATRIX = [
    (["admin"], None, True, True),
    (["vetting"], None, True, True),
    (["organizer"], "NA.HD", True, True),
    (["organizer"], "NA.HD.XA.C1", True, True),
    (["viewer"], None, True, False),
    (["personnel"], None, True, False),
    (["trainer"], None, True, False),
    (["viewer"], "NA.HD", True, False),
    (["organizer"], "NA.TC", False, False),
    (["vetting"], "NA.TC", False, False),
]


@pytest.mark.parametrize(("roles", "scope", "visible", "sensitive"), ROLE_MATRIX)
async def test_sensitive_fields_by_role_and_every_such_read_is_audited(
    people: People, roles: list[str], scope: str | None, visible: bool, sensitive: bool
) -> None:
    await people.admit(
        "Lò Văn Páo",
        "NA.HD.XA.C1",
        ethnicity="Thái",
        religion="Phật giáo",
        national_id="040190000111",
    )
    audits_before = await people.count(SensitiveRead)
    headers = people.svc.auth(roles, org_scope=people.tree.ids[scope] if scope else None, sub="reader")
    if not visible:
        await people.get("Lò Văn Páo", "2024-01-01", headers=headers, expected=404)
        assert await people.names(headers=headers, as_of="2024-01-01") == []
        assert await people.count(SensitiveRead) == audits_before
        return
    member = await people.get("Lò Văn Páo", "2024-01-01", headers=headers)
    if sensitive:
        assert (member["national_id"], member["ethnicity"], member["religion"]) == (
            "040190000111",
            "Thái",
            "Phật giáo",
        )
        assert member["sensitive_omitted"] is False
    else:
        assert member["national_id"] is None and member["ethnicity"] is None and member["religion"] is None
        assert member["sensitive_omitted"] is True
    async with people.svc.app.state.db.session() as s:
        audits = (await s.execute(select(SensitiveRead).where(SensitiveRead.sub == "reader"))).scalars().all()
    if sensitive:
        (audit,) = audits
        assert str(audit.member_id) == member["id"] and audit.roles == sorted(roles)
        assert sorted(audit.fields) == ["ethnicity", "national_id", "religion"]
    else:
        assert audits == []
    assert await people.names(headers=headers, as_of="2024-01-01") == ["Lò Văn Páo"]  # no sensitive keys


async def test_the_list_filters_by_id_without_a_sensitive_read(people: People) -> None:
    """``GET /v1/members?id=``: one member's list item (what the gateway's profile shows), for an admin
    too, with no sensitive field and no audit row; the other filters, ``as_of`` and the scope still apply."""
    ids = people.tree.ids
    paos = await people.admit("Lò Văn Páo", "NA.HD.XA.C1", on="2021-01-10", national_id="040190000111")
    await people.admit("Lê Thị Hoa", "NA.HD.XA.C1", on="2021-01-10", ethnicity="Kinh")
    audits_before = await people.count(SensitiveRead)
    admin = people.svc.auth(["admin"], sub="profile-reader")

    async def listed(headers: dict[str, str] = admin, **params: str) -> list[dict[str, Any]]:
        r = await people.svc.client.get("/v1/members", params={"id": paos["id"], **params}, headers=headers)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    [item] = await listed(as_of="2024-01-01")
    assert item["id"] == paos["id"] and item["status"] == "probationary"
    assert item["org_id"] == ids["NA.HD.XA.C1"] and item["admitted_on"] == "2021-01-10"
    assert not SENSITIVE & item.keys()
    assert await listed(as_of="2020-12-31") == []  # not yet a member
    assert await listed(as_of="2024-01-01", status="official") == []
    assert len(await listed(as_of="2024-01-01", status="all", within=ids["NA.HD"])) == 1
    assert await listed(as_of="2024-01-01", org_id=ids["NA.HD.G1"]) == []
    assert await listed(people.svc.auth(["viewer"], org_scope=ids["NA.TC"]), as_of="2024-01-01") == []
    assert await people.count(SensitiveRead) == audits_before
    r = await people.svc.client.get("/v1/members", params={"id": "not-a-uuid"}, headers=admin)
    assert r.status_code == 422


async def test_write_answers_are_audited_and_events_never_carry_sensitive_data(people: People) -> None:
    organizer = people.svc.auth(["organizer"], org_scope=people.tree.ids["NA.HD"], sub="organizer-1")
    await people.admit(
        "Lò Văn Páo", "NA.HD.XA.C1", ethnicity="Thái", national_id="040190000111", headers=organizer
    )
    await people.act("Lò Văn Páo", "recognition", {"recognized_on": "2022-01-10"}, headers=organizer)
    async with people.svc.app.state.db.session() as s:
        audits = (await s.execute(select(SensitiveRead).order_by(SensitiveRead.id))).scalars().all()
    assert [(a.sub, sorted(a.fields)) for a in audits] == [("organizer-1", ["ethnicity", "national_id"])] * 2
    # Nobody's answer without sensitive values is audited.
    await people.admit("Không Có Gì", "NA.HD.XA.C1", headers=organizer)
    assert await people.count(SensitiveRead) == 2
    for event in await people.events():
        assert not SENSITIVE & event["data"].keys(), event
    async with people.svc.app.state.db.session() as s:
        changes = (await s.execute(select(MemberChange.before, MemberChange.after))).all()
    for before, after in changes:
        assert not SENSITIVE & ((before or {}).keys() | (after or {}).keys())


async def test_scope_of_member_writes(people: People) -> None:
    ids = people.tree.ids
    await people.admit("Hồ Văn Nam", "NA.TC.XB.C2")
    await people.admit("Lê Thị Hoa", "NA.HD.XA.C1")
    organizer = people.svc.auth(["organizer"], org_scope=ids["NA.HD"])
    outside = await people.admit("Ngoài Phạm Vi", "NA.TC.XB.C2", headers=organizer, expected=403)
    assert outside["type"] == "/problems/forbidden"
    await people.act("Hồ Văn Nam", "recognition", {"recognized_on": "2022-01-10"}, 404, headers=organizer)
    out = {"to_org_id": ids["NA.TC.XB.C2"], "kind": "official", "effective_on": "2023-01-01"}
    assert (await people.act("Lê Thị Hoa", "transfers", out, 403, headers=organizer))[
        "type"
    ] == "/problems/forbidden"
    viewer = people.svc.auth(["viewer"], org_scope=ids["NA.HD"])
    await people.act("Lê Thị Hoa", "recognition", {"recognized_on": "2022-01-10"}, 403, headers=viewer)
    await people.admit("Người Xem", "NA.HD.XA.C1", headers=viewer, expected=403)
    r = await people.svc.client.get("/v1/members", params={"within": ids["NA.TC"]}, headers=organizer)
    assert r.status_code == 404


# ------------------------------------------------------------------------------ search, order, ratings


async def test_search_without_diacritics_and_vietnamese_order(people: People) -> None:
    for name in (
        "Trần Thị Bình",
        "Nguyễn Văn A",
        "Phạm Thị Ánh",
        "Lê Văn An",
        "Đặng Văn Đức",
        "Nguyễn Thị Bình",
    ):
        await people.admit(name, "NA.HD.XA.C1")
    day = {"as_of": "2024-01-01"}
    assert await people.names(q="nguyen van a", **day) == ["Nguyễn Văn A"]
    assert await people.names(q="DUC", **day) == ["Đặng Văn Đức"]
    expected = [
        "Nguyễn Văn A",
        "Lê Văn An",
        "Phạm Thị Ánh",
        "Nguyễn Thị Bình",
        "Trần Thị Bình",
        "Đặng Văn Đức",
    ]
    assert await people.names(**day) == expected
    assert await people.names(limit="2", **day) == expected  # paged by cursor, same order
    r = await people.svc.client.get(
        "/v1/members", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=people.tree.headers
    )
    assert r.status_code == 422


async def test_ratings_latest_wins_with_events(people: People) -> None:
    member = await people.admit("Hồ Văn Nam", "NA.HD.XA.C1", on="2021-01-10")
    url = f"/v1/members/{member['id']}/ratings"
    h = people.tree.headers
    r = await people.svc.client.put(f"{url}/2024", json={"rating": "good"}, headers=h)
    assert r.status_code == 200 and r.json()["rating"] == "good" and r.headers["etag"] == '"2"'
    r = await people.svc.client.put(
        f"{url}/2024", json={"rating": "excellent"}, headers={**h, "If-Match": '"2"'}
    )
    assert r.status_code == 200 and r.json()["version"] == 3
    stale = await people.svc.client.put(
        f"{url}/2024", json={"rating": "failed"}, headers={**h, "If-Match": '"2"'}
    )
    assert stale.status_code == 412
    bad = await people.svc.client.put(f"{url}/2024", json={"rating": "superb"}, headers=h)
    assert bad.status_code == 422 and bad.json()["type"] == "/problems/validation"
    early = await people.svc.client.put(f"{url}/2020", json={"rating": "good"}, headers=h)
    assert early.status_code == 422 and early.json()["type"] == "/problems/out-of-order"
    viewer = await people.svc.client.put(
        f"{url}/2024", json={"rating": "good"}, headers=people.svc.auth(["viewer"])
    )
    assert viewer.status_code == 403
    async with people.svc.app.state.db.session() as s:
        rows = (await s.execute(select(MemberRating).order_by(MemberRating.id))).scalars().all()
    assert [(x.year, x.rating) for x in rows] == [(2024, "good"), (2024, "excellent")]  # append-only
    rated = await people.events("rated")
    assert [e["data"] for e in rated] == [
        {"id": member["id"], "year": 2024, "rating": "good"},
        {"id": member["id"], "year": 2024, "rating": "excellent"},
    ]
    assert [e["sequence"] for e in rated] == [2, 3]
