"""The orgs sections of the sector report, against counts made independently from what the test recorded."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from services.orgs.tests.conftest import Tree

FROM, TO = dt.date(2021, 1, 1), dt.date(2022, 12, 31)
GRASSROOTS = {"grassroots_committee", "grassroots_cell"}


@dataclass
class Org:
    code: str
    level: str
    kind: str
    parent: str | None
    established_on: dt.date
    ended: tuple[str, dt.date] | None = None  # ("dissolved" | "merged", date)


@dataclass
class Person:
    org: str  # the admitting organization's code
    admitted_on: dt.date
    recognized_on: dt.date | None = None
    exempt_on: dt.date | None = None
    left: tuple[str, dt.date] | None = None
    unit: str | None = None


@dataclass
class Province:
    tree: Tree
    orgs: dict[str, Org] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    documents: list[tuple[str, dt.date]] = field(default_factory=list)
    ratings: list[tuple[str, int, str]] = field(default_factory=list)
    units: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (commune, covering cell)
    unit_ids: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.tree.svc.client

    async def org(self, code: str, level: str, parent: str | None, kind: str, on: dt.date) -> None:
        await self.tree.add(code, level, parent, kind=kind, on=on.isoformat())
        self.orgs[code] = Org(code, level, kind, parent, on)

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post(url, json=body, headers=self.tree.headers)
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    async def person(
        self,
        org: str,
        admitted_on: dt.date,
        *,
        recognized: bool = False,
        exempt: bool = False,
        left: tuple[str, dt.date] | None = None,
        unit: str | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "full_name": f"Đảng viên {len(self.people)}",
            "birth_date": "1985-01-01",
            "gender": "female",
            "org_id": self.tree.ids[org],
            "admitted_on": admitted_on.isoformat(),
        }
        if unit:
            body["residence_unit_id"] = self.unit_ids[unit]
        member = await self.post("/v1/members", body)
        person = Person(org, admitted_on, unit=unit)
        on = admitted_on
        if recognized:
            on = admitted_on.replace(year=admitted_on.year + 1)
            await self.post(f"/v1/members/{member['id']}/recognition", {"recognized_on": on.isoformat()})
            person.recognized_on = on
        if exempt:
            on = on + dt.timedelta(days=30)
            await self.post(
                f"/v1/members/{member['id']}/exemption", {"effective_on": on.isoformat(), "reason": "ốm"}
            )
            person.exempt_on = on
        if left:
            await self.post(
                f"/v1/members/{member['id']}/departure",
                {"reason": left[0], "effective_on": left[1].isoformat()},
            )
            person.left = left
        self.people.append(person)

    # ---- independent counts --------------------------------------------------------------------------

    def under(self, code: str, root: str | None) -> bool:
        while code is not None:
            if code == root:
                return True
            code = self.orgs[code].parent  # type: ignore[assignment]
        return root is None

    def grassroots_kind(self, code: str) -> str:
        while self.orgs[code].level not in GRASSROOTS:
            code = self.orgs[code].parent  # type: ignore[assignment]
        return self.orgs[code].kind

    def expected(self, root: str | None) -> dict[str, Any]:
        orgs = [o for o in self.orgs.values() if self.under(o.code, root)]
        period = [o for o in orgs if FROM <= o.established_on <= TO]
        active_at_end = [o for o in orgs if o.established_on <= TO and not (o.ended and o.ended[1] <= TO)]
        people = [p for p in self.people if self.under(p.org, root)]

        def counted(items: Any) -> dict[str, int]:
            c = Counter(items)
            return {k: c[k] for k in sorted(c)}

        def status_on(p: Person, day: dt.date) -> str | None:
            if p.left and p.left[1] <= day:
                return None
            if p.exempt_on and p.exempt_on <= day:
                return "exempt"
            return "official" if p.recognized_on and p.recognized_on <= day else "probationary"

        statuses = Counter(status_on(p, TO) for p in people if p.admitted_on <= TO)
        ratings: dict[str, dict[str, int]] = {
            str(y): {r: 0 for r in ("excellent", "good", "completed", "failed")} for y in (2021, 2022)
        }
        for code, year, rating in self.ratings:
            if self.under(code, root) and str(year) in ratings:
                ratings[str(year)][rating] += 1
        units = {n: v for n, v in self.units.items() if self.under(v[0], root)}
        inhabited = {p.unit for p in people if p.unit and status_on(p, TO) is not None}
        return {
            "documents": {"issued_by_kind": counted(k for k, d in self.documents if FROM <= d <= TO)},
            "organizations": {
                "grassroots_established_by_kind": counted(o.kind for o in period if o.level in GRASSROOTS),
                "grassroots_active_at_end_by_kind": counted(
                    o.kind for o in active_at_end if o.level in GRASSROOTS
                ),
                "established_by_level": counted(o.level for o in period),
                "dissolved_by_level": counted(
                    o.level
                    for o in orgs
                    if o.ended and o.ended[0] == "dissolved" and FROM <= o.ended[1] <= TO
                ),
                "merged_by_level": counted(
                    o.level for o in orgs if o.ended and o.ended[0] == "merged" and FROM <= o.ended[1] <= TO
                ),
                "ratings_by_year": ratings,
            },
            "members": {
                "admitted_by_kind": counted(
                    self.grassroots_kind(p.org) for p in people if FROM <= p.admitted_on <= TO
                ),
                "admitted_total": sum(1 for p in people if FROM <= p.admitted_on <= TO),
                "recognized_total": sum(
                    1 for p in people if p.recognized_on and FROM <= p.recognized_on <= TO
                ),
                "left_by_reason": counted(p.left[0] for p in people if p.left and FROM <= p.left[1] <= TO),
                "active_at_end_by_status": {
                    s: statuses.get(s, 0) for s in ("probationary", "official", "exempt")
                },
            },
            "coverage": {
                "units_total": len(units),
                "units_without_cell": sum(1 for _c, cell in units.values() if cell is None),
                "units_without_members": sum(1 for n in units if n not in inhabited),
            },
        }


async def build(tree: Tree) -> Province:
    p = Province(tree)
    old, y21, y22, late = dt.date(2015, 1, 1), dt.date(2021, 3, 1), dt.date(2022, 5, 1), dt.date(2023, 2, 1)
    await p.org("NA", "province", None, "other", old)
    await p.org("HD", "upper_grassroots", "NA", "agency", old)
    await p.org("TC", "upper_grassroots", "NA", "agency", old)
    await p.org("HD.XA", "grassroots_committee", "HD", "commune", old)
    await p.org("HD.XA.C1", "cell", "HD.XA", "residential", old)
    await p.org("HD.XA.C2", "cell", "HD.XA", "residential", y21)
    await p.org("HD.XA.C3", "cell", "HD.XA", "residential", y21)
    await p.org("HD.P0", "grassroots_cell", "HD", "private_enterprise", dt.date(2019, 6, 1))
    await p.org("HD.P1", "grassroots_cell", "HD", "private_enterprise", y21)
    await p.org("TC.F1", "grassroots_committee", "TC", "fdi_enterprise", y22)
    await p.org("TC.F1.C1", "cell", "TC.F1", "other", y22)
    await p.org("TC.F2", "grassroots_cell", "TC", "fdi_enterprise", y22)
    await p.org("TC.P9", "grassroots_cell", "TC", "private_enterprise", late)  # after the period
    # Members (some of them leave or are exempted); one admitted before the period.
    await p.person("HD.XA.C1", dt.date(2019, 4, 1), recognized=True)
    await p.person("HD.XA.C1", dt.date(2021, 2, 1), recognized=True, exempt=True)
    await p.person("HD.XA.C2", dt.date(2021, 6, 1))
    await p.person("HD.P1", dt.date(2021, 4, 1), recognized=True)
    await p.person("HD.P1", dt.date(2021, 5, 1), left=("deceased", dt.date(2022, 8, 1)))
    await p.person("HD.P1", dt.date(2022, 11, 1))
    await p.person("HD.P0", dt.date(2020, 1, 10), recognized=True, left=("withdrawn", dt.date(2022, 1, 5)))
    await p.person("TC.F1.C1", dt.date(2022, 6, 1))
    await p.person("TC.F1.C1", dt.date(2022, 6, 2))
    await p.person("TC.F2", dt.date(2022, 7, 1))
    await p.person("TC.F2", dt.date(2023, 3, 1))  # after the period
    # The cell C3 merges into C2 (2022-03-01); the enterprise cell P0 is dissolved (2022-09-01).
    await p.post(
        "/v1/organizations/merge",
        {
            "source_ids": [tree.ids["HD.XA.C3"]],
            "target_id": tree.ids["HD.XA.C2"],
            "effective_on": "2022-03-01",
        },
    )
    p.orgs["HD.XA.C3"].ended = ("merged", dt.date(2022, 3, 1))
    await p.post(f"/v1/organizations/{tree.ids['HD.P0']}/dissolve", {"effective_on": "2022-09-01"})
    p.orgs["HD.P0"].ended = ("dissolved", dt.date(2022, 9, 1))
    # Ratings of organizations.
    for code, year, rating in [
        ("HD.XA", 2021, "excellent"),
        ("HD.XA", 2022, "good"),
        ("HD.P1", 2021, "good"),
        ("HD.P1", 2022, "completed"),
        ("TC.F1", 2022, "failed"),
        ("HD.XA", 2020, "good"),
    ]:
        r = await p.client.put(
            f"/v1/organizations/{tree.ids[code]}/ratings/{year}",
            json={"rating": rating},
            headers=tree.headers,
        )
        assert r.status_code == 200, r.text
        p.ratings.append((code, year, rating))
    # Documents of the department (no issuer) in and out of the period.
    for i, (kind, day) in enumerate(
        [
            ("plan", "2021-02-01"),
            ("plan", "2022-12-31"),
            ("regulation", "2021-01-01"),
            ("report", "2022-06-30"),
            ("project", "2020-12-31"),
            ("report", "2023-01-01"),
        ]
    ):
        await p.post(
            "/v1/documents", {"number": f"{i}-KH/TU", "kind": kind, "title": f"Văn bản {i}", "issued_on": day}
        )
        p.documents.append((kind, dt.date.fromisoformat(day)))
    # Residential units of the commune: one covered by C1, two without a cell; one of them inhabited.
    for name, cell in (("Xóm 1", "HD.XA.C1"), ("Xóm 2", None), ("Xóm 3", None)):
        body: dict[str, Any] = {
            "name": name,
            "kind": "xom",
            "commune_org_id": tree.ids["HD.XA"],
            "established_on": "2015-01-01",
        }
        if cell:
            body["covering_org_id"] = tree.ids[cell]
        p.unit_ids[name] = (await p.post("/v1/residential-units", body))["id"]
        p.units[name] = ("HD.XA", cell)
    await p.person("HD.XA.C2", dt.date(2022, 2, 1), unit="Xóm 2")
    return p


async def test_every_figure_of_the_orgs_sections_matches_independent_counts(orgs: Any) -> None:
    province = await build(Tree(orgs))
    for root in (None, "HD", "TC", "HD.XA"):
        params: dict[str, str] = {"from": FROM.isoformat(), "to": TO.isoformat()}
        if root:
            params["within"] = province.tree.ids[root]
        r = await orgs.client.get("/v1/stats/sector", params=params, headers=province.tree.headers)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["period"] == {"from": "2021-01-01", "to": "2022-12-31"}
        expected = province.expected(root)
        if root is not None:
            # Documents of the department have no issuer: they belong to the whole province only.
            expected["documents"] = {"issued_by_kind": {}}
        for section in ("documents", "organizations", "members", "coverage"):
            assert got[section] == expected[section], (root, section)
    # A sanity anchor, so the independent counts are not both wrong in the same way.
    whole = (
        await orgs.client.get(
            "/v1/stats/sector",
            params={"from": "2021-01-01", "to": "2022-12-31"},
            headers=province.tree.headers,
        )
    ).json()
    assert whole["organizations"]["grassroots_established_by_kind"] == {
        "fdi_enterprise": 2,
        "private_enterprise": 1,
    }
    assert whole["members"]["admitted_by_kind"] == {
        "commune": 3,
        "fdi_enterprise": 3,
        "private_enterprise": 3,
    }


async def test_the_sector_report_is_scoped_and_checks_its_period(orgs: Any) -> None:
    province = await build(Tree(orgs))
    scoped = orgs.auth(["viewer"], org_scope=province.tree.ids["TC"])
    r = await orgs.client.get(
        "/v1/stats/sector", params={"from": "2021-01-01", "to": "2022-12-31"}, headers=scoped
    )
    assert r.status_code == 200
    assert r.json()["scope"]["id"] == province.tree.ids["TC"]
    assert r.json()["members"]["admitted_total"] == 3
    outside = await orgs.client.get(
        "/v1/stats/sector",
        headers=scoped,
        params={"from": "2021-01-01", "to": "2022-12-31", "within": province.tree.ids["HD"]},
    )
    assert outside.status_code == 404
    backwards = await orgs.client.get(
        "/v1/stats/sector", params={"from": "2022-01-01", "to": "2021-01-01"}, headers=province.tree.headers
    )
    assert backwards.status_code == 422
