"""The member counts kept with the states (``members.counts``) and the sector report that reads them.

Every member change is made through the API (admission, recognition, official and temporary transfers,
exemption, departure, a merge and a dissolution that carry members, a move of a subtree); then

* the stored ``member_counts`` / ``member_day_counts`` equal a recount from ``member_states`` (the SQL the
  migration backfills with), and
* the report's members section equals counts made from the states directly (the way the report counted
  before the counts existed), for the whole system and for several subtrees, on several end dates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import and_, func, or_, select

from services.orgs.members import counts
from services.orgs.members.models import Member, MemberState
from services.orgs.organizations.models import OrganizationVersion
from services.orgs.tests.conftest import Tree
from shared.tree import in_subtree

S = MemberState.__table__
M = Member.__table__
V = OrganizationVersion.__table__


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        v.isoformat() if isinstance(v, dt.date) else int(v) if isinstance(v, int) else v for v in row
    )


def _normalized(org_rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Drop the rows that change nothing (same totals as the organization's previous row, no event)."""
    out: list[tuple[Any, ...]] = []
    last: dict[int, tuple[Any, ...]] = {}
    for row in org_rows:
        node, totals, events = row[0], tuple(row[2:5]), tuple(row[5:])
        if last.get(node, (0, 0, 0)) == totals and not any(events):
            continue
        last[node] = totals
        out.append(_plain(row))
    return out


async def assert_counts_match_states(svc: Any) -> None:
    async with svc.app.state.db.session() as s:
        want_org, want_day = await counts.recount(s)
        got_org, got_day = await counts.stored(s)
    assert _normalized(got_org) == _normalized(want_org)
    assert [_plain(r) for r in got_day] == [_plain(r) for r in want_day]


def _valid(table: Any, day: dt.date) -> Any:
    return and_(table.c.valid_from <= day, or_(table.c.valid_to.is_(None), table.c.valid_to > day))


async def members_from_states(
    svc: Any, start: dt.date, end: dt.date, root_path: str | None
) -> dict[str, Any]:
    """The members section counted from the states (no kinds: checked by test_sector)."""
    scope = _valid(V, end) if root_path is None else and_(_valid(V, end), in_subtree(V.c.path, root_path))
    nodes = select(V.c.node).where(scope)
    async with svc.app.state.db.session() as s:
        active = dict(
            (
                await s.execute(
                    select(S.c.status, func.count())
                    .where(_valid(S, end), S.c.status != "left", S.c.org_node.in_(nodes))
                    .group_by(S.c.status)
                )
            ).all()
        )
        first_official = select(func.min(S.c.id)).where(S.c.status == "official").group_by(S.c.member_id)
        recognized = (
            await s.execute(
                select(func.count()).where(
                    S.c.id.in_(first_official),
                    S.c.valid_from.between(start, end),
                    S.c.org_node.in_(nodes),
                )
            )
        ).scalar_one()
        left = dict(
            (
                await s.execute(
                    select(S.c.left_reason, func.count())
                    .where(S.c.status == "left", S.c.valid_from.between(start, end), S.c.org_node.in_(nodes))
                    .group_by(S.c.left_reason)
                )
            ).all()
        )
        admitted = (
            await s.execute(
                select(func.count()).where(
                    M.c.admitted_on.between(start, end), M.c.admitted_org_node.in_(nodes)
                )
            )
        ).scalar_one()
    return {
        "admitted_total": admitted,
        "recognized_total": recognized,
        "left_by_reason": {k: left[k] for k in sorted(left)},
        "active_at_end_by_status": {st: active.get(st, 0) for st in counts.STATUSES},
    }


class People:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.ids: dict[str, str] = {}

    async def post(self, url: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        r = await self.tree.svc.client.post(url, json=body, headers=self.tree.headers)
        assert r.status_code in (status, 201), r.text
        return dict(r.json())

    async def admit(self, name: str, org: str, on: str) -> None:
        body = {
            "full_name": name,
            "birth_date": "1980-01-01",
            "gender": "male",
            "org_id": self.tree.ids[org],
            "admitted_on": on,
        }
        self.ids[name] = (await self.post("/v1/members", body))["id"]

    async def act(self, name: str, what: str, body: dict[str, Any]) -> None:
        await self.post(f"/v1/members/{self.ids[name]}/{what}", body)


async def build(tree: Tree) -> People:
    await tree.add("NA", "province", kind="other", on="2000-01-01")
    await tree.add("HD", "upper_grassroots", "NA", on="2000-01-01")
    await tree.add("TC", "upper_grassroots", "NA", on="2000-01-01")
    await tree.add("HD.XA", "grassroots_committee", "HD", kind="commune", on="2000-01-01")
    await tree.add("HD.XA.B", "sub_committee", "HD.XA", kind="commune", on="2000-01-01")
    await tree.add("HD.XA.B.C1", "cell", "HD.XA.B", kind="residential", on="2000-01-01")
    await tree.add("HD.XA.C2", "cell", "HD.XA", kind="residential", on="2000-01-01")
    await tree.add("HD.XA.C3", "cell", "HD.XA", kind="residential", on="2000-01-01")
    await tree.add("HD.P", "grassroots_cell", "HD", kind="private_enterprise", on="2000-01-01")
    await tree.add("TC.XB", "grassroots_committee", "TC", kind="commune", on="2000-01-01")
    await tree.add("TC.XB.C4", "cell", "TC.XB", kind="residential", on="2000-01-01")
    await tree.add("TC.XB.C5", "cell", "TC.XB", kind="residential", on="2000-01-01")
    p = People(tree)
    names = {
        "An": ("HD.XA.B.C1", "2019-03-01"),
        "Bình": ("HD.XA.B.C1", "2021-02-01"),
        "Chi": ("HD.XA.C2", "2021-03-01"),
        "Dũng": ("HD.XA.C3", "2020-05-01"),
        "Giang": ("HD.XA.C3", "2021-06-01"),
        "Hà": ("HD.P", "2021-01-15"),
        "Khánh": ("TC.XB.C4", "2020-01-01"),
        "Lan": ("TC.XB.C5", "2021-08-01"),
        "Minh": ("TC.XB.C5", "2022-01-10"),
    }
    for name, (org, on) in names.items():
        await p.admit(name, org, on)
    await p.act("An", "recognition", {"recognized_on": "2020-03-05"})
    await p.act("Bình", "recognition", {"recognized_on": "2022-02-01"})
    # recognized and transferred on the same day (a state of zero length in the first cell)
    await p.act(
        "Bình",
        "transfers",
        {"to_org_id": tree.ids["HD.XA.C2"], "kind": "official", "effective_on": "2022-02-01"},
    )
    await p.act("Dũng", "recognition", {"recognized_on": "2021-05-10"})
    await p.act("Dũng", "exemption", {"effective_on": "2021-09-01", "reason": "ốm"})
    await p.act("Khánh", "recognition", {"recognized_on": "2021-01-02"})
    # across committees, then a temporary transfer (counted at home only)
    await p.act(
        "Khánh",
        "transfers",
        {"to_org_id": tree.ids["HD.XA.C2"], "kind": "official", "effective_on": "2021-04-01"},
    )
    await p.act(
        "Khánh",
        "transfers",
        {
            "to_org_id": tree.ids["TC.XB.C4"],
            "kind": "temporary",
            "effective_on": "2021-05-01",
            "until": "2021-11-01",
        },
    )
    await p.act("Hà", "departure", {"reason": "withdrawn", "effective_on": "2021-12-01"})
    await p.act("Lan", "departure", {"reason": "deceased", "effective_on": "2022-03-03"})
    # C3 (Dũng exempt, Giang probationary) merges into C2; C5 (Minh) is dissolved, its members go to C4
    await p.post(
        "/v1/organizations/merge",
        {
            "source_ids": [tree.ids["HD.XA.C3"]],
            "target_id": tree.ids["HD.XA.C2"],
            "effective_on": "2022-04-01",
        },
    )
    await p.post(
        f"/v1/organizations/{tree.ids['TC.XB.C5']}/dissolve",
        {"effective_on": "2022-05-01", "transfer_to": tree.ids["TC.XB.C4"]},
    )
    # after the moves: a departure and a recognition in the receiving cells
    await p.act("Giang", "recognition", {"recognized_on": "2022-06-15"})
    await p.act("Chi", "departure", {"reason": "removed", "effective_on": "2022-07-01"})
    # the cell C4 moves under HD.XA (the report places it as the tree stood on its end date)
    r = await tree.svc.client.post(
        f"/v1/organizations/{tree.ids['TC.XB.C4']}/move",
        json={"parent_id": tree.ids["HD.XA"], "effective_on": "2022-09-01"},
        headers=tree.headers,
    )
    assert r.status_code == 200, r.text
    return p


async def path_of(svc: Any, tree: Tree, code: str, day: dt.date) -> str:
    r = await svc.client.get(
        f"/v1/organizations/{tree.ids[code]}", params={"as_of": day.isoformat()}, headers=tree.headers
    )
    assert r.status_code == 200, r.text
    async with svc.app.state.db.session() as s:
        from services.orgs.organizations.models import Organization

        node = (
            await s.execute(
                select(Organization.__table__.c.node).where(
                    Organization.__table__.c.id == uuid.UUID(tree.ids[code])
                )
            )
        ).scalar_one()
        return str((await s.execute(select(V.c.path).where(V.c.node == node, _valid(V, day)))).scalar_one())


async def test_the_counts_follow_every_change_and_the_report_equals_the_states(orgs: Any) -> None:
    tree = Tree(orgs)
    await build(tree)
    await assert_counts_match_states(orgs)
    periods = [
        (dt.date(2021, 1, 1), dt.date(2022, 12, 31)),
        (dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
        (dt.date(2022, 2, 1), dt.date(2022, 2, 1)),  # the day of a recognition and a transfer
        (dt.date(2022, 3, 1), dt.date(2022, 6, 30)),  # across the merge and the dissolution
        (dt.date(2000, 1, 1), dt.date(2030, 1, 1)),
    ]
    seen = Counter[str]()
    for start, end in periods:
        for root in (None, "NA", "HD", "TC", "HD.XA", "HD.XA.B", "HD.XA.C2", "TC.XB.C4", "HD.P"):
            params = {"from": start.isoformat(), "to": end.isoformat()}
            root_path = None
            if root is not None:
                r = await orgs.client.get(
                    f"/v1/organizations/{tree.ids[root]}",
                    params={"as_of": end.isoformat()},
                    headers=tree.headers,
                )
                if r.status_code != 200:
                    continue
                params["within"] = tree.ids[root]
                root_path = await path_of(orgs, tree, root, end)
            r = await orgs.client.get("/v1/stats/sector", params=params, headers=tree.headers)
            assert r.status_code == 200, r.text
            got = r.json()["members"]
            want = await members_from_states(orgs, start, end, root_path)
            assert {k: got[k] for k in want} == want, (root, start, end)
            assert sum(got["admitted_by_kind"].values()) == got["admitted_total"]
            seen.update(k for k, v in want.items() if v)
    assert set(seen) == {"admitted_total", "recognized_total", "left_by_reason", "active_at_end_by_status"}


async def test_the_kinds_of_admissions_follow_the_tree_on_the_end_date(orgs: Any) -> None:
    tree = Tree(orgs)
    await build(tree)
    whole = await orgs.client.get(
        "/v1/stats/sector", params={"from": "2021-01-01", "to": "2022-12-31"}, headers=tree.headers
    )
    # admitted 2021-2022: Bình (C1, under the sub-committee), Chi (C2), Giang (C3), Hà (HD.P), Lan and
    # Minh (C5, under TC.XB): the commune cells, the private enterprise
    assert whole.json()["members"]["admitted_by_kind"] == {"commune": 5, "private_enterprise": 1}
    hd = await orgs.client.get(
        "/v1/stats/sector",
        params={"from": "2021-01-01", "to": "2022-12-31", "within": tree.ids["HD"]},
        headers=tree.headers,
    )
    assert hd.json()["members"]["admitted_by_kind"] == {"commune": 3, "private_enterprise": 1}
