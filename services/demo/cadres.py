"""The cadres part of the demo province: posts, cadres, personnel decisions, succession plans and payroll.

Who does what in the period (2021-2022), each cadre in one story, so the distinct counts are exact:

* appointed (40): held a lower post since 2016-2019, planned in 2021 for the post, appointed in 2021-2022;
* reappointed (20): appointed in 2017, reappointed about six months before the five-year term ends;
* transferred (18), rotated (10), seconded (5): held a post since 2016-2019, then moved; the rotated ones
  are planned for their new post first; arranged (8): given a post;
* designated (51) to communes' Party executive committees; introduced as candidates (211) for the People's
  Councils elected on 2021-05-23; opinions given on 110 appointments by central agencies (100 cadres).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from services.demo.model import PERIOD_FROM, PERIOD_TO, Op, Plan, Ref
from services.demo.names import People
from services.demo.orgs import OrgsBuilder

TERM = "2020-2025"
CANDIDACY = "Giới thiệu ứng cử đại biểu Hội đồng nhân dân nhiệm kỳ 2021-2026"
APPOINTMENT_OPINIONS = 110
OPINION_CADRES = 100
CANDIDATES = 211
DESIGNATIONS = 51
PUBLIC_EMPLOYEES = (5000, 4499)  # allocated in 2021 and 2022: 10.02 %
CIVIL_SERVANTS = (2600, 2462)  # 5.31 %
CENTRAL_POSTS = ("Phó Cục trưởng Cục Thuế tỉnh", "Phó Giám đốc Kho bạc Nhà nước tỉnh",
                 "Phó Giám đốc Ngân hàng Nhà nước chi nhánh tỉnh", "Phó Cục trưởng Cục Thống kê tỉnh",
                 "Phó Giám đốc Bảo hiểm xã hội tỉnh", "Phó Cục trưởng Cục Hải quan tỉnh")  # fmt: skip


@dataclass
class Cadre:
    key: str
    op: Op  # its creation; what follows about the cadre chains after it (``op.then``)
    level: str  # the political theory course it is sent to: intermediate, advanced or "" (none)
    sends: str  # the organization that sends it to study (key)


class CadresBuilder:
    def __init__(self, plan: Plan, rng: random.Random, people: People, orgs: OrgsBuilder) -> None:
        self.plan, self.rng, self.people, self.orgs = plan, rng, people, orgs
        self.cadres: list[Cadre] = []
        self.posts: dict[str, dict[str, Any]] = {}
        self._decisions = 0

    # --- helpers ---

    def post(
        self, org: str, slug: str, title: str, category: str, seats: int = 1, theory: str | None = None
    ) -> str:
        key = f"post:{self.plan.orgs[org].code}:{slug}"
        body = {"org_id": Ref(org), "title": title, "category": category, "seats": seats,
                "requirements": {"theory_level": theory} if theory else {}}  # fmt: skip
        self.posts[key] = body
        self.plan.phase("cells").ops.append(Op("cadres", "post", "POST", "/posts", body, key=key))
        return key

    def cadre(
        self, home: str, level: str, *, age: tuple[int, int] = (30, 50), sends: str | None = None
    ) -> Cadre:
        n = len(self.cadres)
        gender = self.people.gender(0.35)
        birth = self.people.birth_date(dt.date(2021, 1, 1), *age)
        education = self.rng.choice(("bachelor",) * 6 + ("master",) * 2 + ("college",))
        declared = {"advanced": "intermediate", "intermediate": self.rng.choice(("none", "elementary"))}
        body = {
            "full_name": self.people.name(gender), "birth_date": birth, "gender": gender, "org_id": Ref(home),
            "education": "master" if level == "advanced" and n % 3 == 0 else education,
            "declared_theory_level": declared.get(level, "advanced"),
            "national_id": self.people.national_id(birth, gender),
        }  # fmt: skip
        key = f"cadre:{n}"
        cadre = Cadre(
            key, Op("cadres", "cadre", "POST", "/cadres", body, key=key), level, sends or self._sender(home)
        )
        self.cadres.append(cadre)
        self.plan.phase("people").ops.append(cadre.op)
        return cadre

    def _sender(self, home: str) -> str:
        """The upper-grassroots committee above the home organization (the province for its own cadres)."""
        spec = self.plan.orgs[home]
        while spec.level not in ("upper_grassroots", "province"):
            assert spec.parent is not None
            spec = self.plan.orgs[spec.parent]
        return spec.key

    def action(self, cadre: Cadre, kind: str, day: dt.date, *, post: str | None = None, **extra: Any) -> None:
        self._decisions += 1
        sign = (
            "QĐ/TU"
            if post is None or self.plan.orgs[self.posts[post]["org_id"].key].level == "province"
            else "QĐ/HU"
        )
        body: dict[str, Any] = {
            "kind": kind, "cadre_id": Ref(cadre.key), "decision_no": f"{100 + self._decisions}-{sign}",
            "decided_on": day, "effective_on": extra.pop("effective_on", day + dt.timedelta(days=5)),
        }  # fmt: skip
        if post is not None:
            body["post_id"] = Ref(post)
        body.update(extra)
        cadre.op.then.append(Op("cadres", f"action:{kind}", "POST", "/personnel-actions", body))

    def plan_for(self, cadre: Cadre, post: str, day: dt.date) -> None:
        body = {"cadre_id": Ref(cadre.key), "post_id": Ref(post), "term": TERM, "added_on": day}
        cadre.op.then.append(Op("cadres", "plan", "POST", "/plans", body))

    def day(self, first: dt.date, last: dt.date) -> dt.date:
        return self.people.day_between(first, last)

    # --- posts ---

    def build_posts(self) -> dict[str, dict[str, str]]:
        """The posts, per organization key: slug → post key."""
        posts: dict[str, dict[str, str]] = {}
        na = "org:NA"
        posts[na] = {
            "sec": self.post(na, "sec", "Bí thư Tỉnh ủy", "secretary", theory="advanced"),
            "dep": self.post(na, "dep", "Phó Bí thư Tỉnh ủy", "deputy_secretary", 3, "advanced"),
            "std": self.post(na, "std", "Ủy viên Ban Thường vụ Tỉnh ủy", "standing_member", 15, "advanced"),
            "chair": self.post(na, "chair", "Chủ tịch Ủy ban nhân dân tỉnh", "chair", theory="advanced"),
            "vchair": self.post(
                na, "vchair", "Phó Chủ tịch Ủy ban nhân dân tỉnh", "vice_chair", 5, "advanced"
            ),
        }
        for d in self.orgs.district_keys:
            posts[d] = {
                "sec": self.post(d, "sec", "Bí thư Huyện ủy", "secretary", theory="advanced"),
                "dep": self.post(d, "dep", "Phó Bí thư Huyện ủy", "deputy_secretary", 2, "advanced"),
                "std": self.post(
                    d, "std", "Ủy viên Ban Thường vụ Huyện ủy", "standing_member", 13, "advanced"
                ),
                "chair": self.post(d, "chair", "Chủ tịch Ủy ban nhân dân", "chair", theory="advanced"),
                "vchair": self.post(
                    d, "vchair", "Phó Chủ tịch Ủy ban nhân dân", "vice_chair", 3, "intermediate"
                ),
                "org": self.post(d, "org", "Trưởng Ban Tổ chức Huyện ủy", "head", theory="advanced"),
                "deporg": self.post(d, "deporg", "Phó Trưởng Ban Tổ chức Huyện ủy", "deputy_head", 2),
                "insp": self.post(d, "insp", "Chủ nhiệm Ủy ban Kiểm tra Huyện ủy", "inspection_chair"),
            }
        for c in self.orgs.communes:
            posts[c] = {
                "sec": self.post(c, "sec", "Bí thư Đảng ủy", "secretary", theory="intermediate"),
                "chair": self.post(c, "chair", "Chủ tịch Ủy ban nhân dân", "chair", theory="intermediate"),
                "vchair": self.post(c, "vchair", "Phó Chủ tịch Ủy ban nhân dân", "vice_chair", 2),
                "exec": self.post(c, "exec", "Ủy viên Ban Chấp hành Đảng bộ", "executive_member", 15),
            }
        for a in self.orgs.agencies[-10:]:  # the provincial agencies
            posts[a] = {
                "head": self.post(a, "head", "Thủ trưởng cơ quan", "head", theory="advanced"),
                "dep": self.post(a, "dep", "Phó Thủ trưởng cơ quan", "deputy_head", 3, "intermediate"),
            }
        return posts

    # --- the stories of the period ---

    def build_personnel(self, posts: dict[str, dict[str, str]]) -> None:
        districts, communes = self.orgs.district_keys, self.orgs.communes
        agencies = self.orgs.agencies[-10:]
        # Appointed: a district's or a commune's vice chair to chair, an agency's deputy to head.
        ups = [(d, posts[d]["vchair"], posts[d]["chair"], "advanced") for d in districts]
        ups += [(a, posts[a]["dep"], posts[a]["head"], "advanced") for a in agencies]
        ups += [(c, posts[c]["vchair"], posts[c]["chair"], "intermediate") for c in communes[:18]]
        for org, lower, higher, level in ups:
            self._appointed(org, lower, higher, level)
        reappointed = [posts[d]["org"] for d in districts] + [posts[d]["insp"] for d in districts[:8]]
        for post in reappointed:
            self._reappointed(post)
        for i in range(18):  # from a district's organization board to a provincial agency
            self._moved("transfer", posts[districts[i % 12]]["deporg"], posts[agencies[i % 10]]["dep"])
        for i in range(10):  # a commune's secretary to a district's deputy secretary
            self._moved("rotation", posts[communes[18 + i]]["sec"], posts[districts[i]]["dep"], planned=True)
        for i in range(5):
            self._moved("secondment", posts[communes[28 + i]]["sec"], posts[districts[i + 5]]["std"])
        for i in range(8):
            cadre = self.cadre(districts[i], "advanced", age=(32, 45))
            self.action(
                cadre, "arrangement", self.day(PERIOD_FROM, PERIOD_TO), post=posts[districts[i]]["std"]
            )
        self._recorded_only(posts)

    def _appointed(self, org: str, lower: str, higher: str, level: str) -> None:
        cadre = self.cadre(org, level, age=(33, 48))
        self.action(cadre, "arrangement", self.day(dt.date(2016, 1, 4), dt.date(2018, 12, 28)), post=lower)
        planned = self.day(dt.date(2021, 1, 15), dt.date(2021, 12, 15))
        self.plan_for(cadre, higher, planned)
        self.action(
            cadre,
            "appointment",
            self.day(planned + dt.timedelta(days=30), dt.date(2022, 12, 20)),
            post=higher,
        )
        other = self.cadre(org, level, age=(30, 45))  # a second candidate planned for the same post
        self.plan_for(other, higher, self.day(dt.date(2021, 1, 15), dt.date(2022, 6, 30)))

    def _reappointed(self, post: str) -> None:
        """Took the post in 2017, reappointed about six months before the five years end.

        The 2017 decision is recorded as an arrangement: the cadres service has no appointment term before
        ``appointments.term_years`` (from 2020-11-27): it answers 500 for such an appointment.
        """
        cadre = self.cadre(self.posts[post]["org_id"].key, "advanced", age=(38, 50))
        started = self.day(dt.date(2017, 2, 1), dt.date(2017, 12, 20))
        self.action(cadre, "arrangement", started, post=post, effective_on=started)
        term_ends = started.replace(year=2022) - dt.timedelta(days=1)
        decided = term_ends - dt.timedelta(days=self.rng.randrange(170, 200))
        self.action(cadre, "reappointment", decided, post=post, effective_on=decided + dt.timedelta(days=3))

    def _moved(self, kind: str, before: str, after: str, *, planned: bool = False) -> None:
        cadre = self.cadre(self.posts[before]["org_id"].key, "advanced", age=(32, 46))
        self.action(cadre, "arrangement", self.day(dt.date(2016, 1, 4), dt.date(2018, 12, 28)), post=before)
        day = self.day(dt.date(2021, 3, 1), dt.date(2022, 12, 15))
        if planned:
            self.plan_for(cadre, after, day - dt.timedelta(days=self.rng.randrange(30, 120)))
        extra = {"ends_on": day.replace(year=day.year + 3)} if kind in ("rotation", "secondment") else {}
        self.action(cadre, kind, day, post=after, **extra)

    def _recorded_only(self, posts: dict[str, dict[str, str]]) -> None:
        communes = self.orgs.communes
        for i in range(DESIGNATIONS):
            commune = communes[i % len(communes)]
            cadre = self.cadre(commune, "intermediate")
            self.action(cadre, "designation", self.day(PERIOD_FROM, PERIOD_TO), post=posts[commune]["exec"])
        homes = [*communes, *self.orgs.agencies, *self.orgs.district_keys]
        for i in range(CANDIDATES):
            cadre = self.cadre(homes[i % len(homes)], "intermediate")
            self.action(cadre, "candidate_introduction", self.day(dt.date(2021, 2, 1), dt.date(2021, 3, 15)),
                        to_org_id=Ref(cadre.sends), note=CANDIDACY)  # fmt: skip
        agencies = self.orgs.agencies[-10:]
        opinions = [self.cadre(agencies[i % 10], "intermediate", age=(35, 50)) for i in range(OPINION_CADRES)]
        for i in range(APPOINTMENT_OPINIONS):
            cadre = opinions[i % OPINION_CADRES]
            first = dt.date(2021, 1, 1) if i < OPINION_CADRES else dt.date(2022, 1, 1)
            self.action(cadre, "appointment_opinion", self.day(first, first.replace(month=12, day=31)),
                        note=f"Cho ý kiến bổ nhiệm {CENTRAL_POSTS[i % len(CENTRAL_POSTS)]}")  # fmt: skip

    # --- the rest of the cadres, and payroll ---

    def fill(self, advanced: int, intermediate: int, seniors: int) -> None:
        """Cadres up to the numbers sent to each course level, and seniors who study no more."""
        upper = [*self.orgs.district_keys, *self.orgs.agencies[-10:], "org:NA.KCQ", "org:NA.KDN"]
        lower = [*self.orgs.communes, *self.orgs.agencies, *self.orgs.other_receivers]
        while sum(c.level == "advanced" for c in self.cadres) < advanced:
            self.cadre(self.rng.choice(upper), "advanced", age=(33, 50))
        while sum(c.level == "intermediate" for c in self.cadres) < intermediate:
            self.cadre(self.rng.choice(lower), "intermediate", age=(31, 50))
        for i in range(seniors):
            cadre = self.cadre("org:NA", "", age=(52, 59))
            if i < 6:
                self.action(cadre, "retirement", self.day(PERIOD_FROM, PERIOD_TO))

    def build_payroll(self) -> None:
        orgs = [*self.orgs.district_keys, "org:NA.KCQ"]
        for category, (baseline, year) in (
            ("public_employee", PUBLIC_EMPLOYEES),
            ("civil_servant", CIVIL_SERVANTS),
        ):
            weights = [self.rng.randrange(60, 140) for _ in orgs]
            for y, total in ((2021, baseline), (2022, year)):
                for org, allocated in zip(orgs, split(total, weights), strict=True):
                    body = {"allocated": allocated, "actual": allocated - self.rng.randrange(0, 6)}
                    path = f"/payroll/{{{org}}}/{y}/{category}"
                    self.plan.phase("people").ops.append(Op("cadres", "payroll", "PUT", path, body))


def split(total: int, weights: list[int]) -> list[int]:
    """``total`` in parts proportional to ``weights`` that add up exactly (largest remainders)."""
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts
