"""The orgs part of the demo province: the tree, members, residential units, ratings and documents."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

from services.demo.model import ENTERPRISE_KINDS, PERIOD_FROM, PERIOD_TO, Op, OrgSpec, Plan, Ref
from services.demo.names import People

# District-era upper-grassroots committees (before 2025-07-01) and three communes or wards of each.
DISTRICTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("VINH", "Thành phố Vinh", "ward", ("Hưng Bình", "Lê Lợi", "Bến Thủy")),
    ("CUA-LO", "Thị xã Cửa Lò", "ward", ("Nghi Thủy", "Thu Thủy", "Nghi Hải")),
    ("THAI-HOA", "Thị xã Thái Hòa", "ward", ("Hòa Hiếu", "Quang Tiến", "Long Sơn")),
    ("HOANG-MAI", "Thị xã Hoàng Mai", "ward", ("Quỳnh Thiện", "Mai Hùng", "Quỳnh Dị")),
    ("HUNG-NGUYEN", "Huyện Hưng Nguyên", "commune", ("Hưng Đạo", "Hưng Tân", "Hưng Thịnh")),
    ("NAM-DAN", "Huyện Nam Đàn", "commune", ("Kim Liên", "Nam Giang", "Xuân Hòa")),
    ("NGHI-LOC", "Huyện Nghi Lộc", "commune", ("Nghi Long", "Nghi Xá", "Nghi Trung")),
    ("DIEN-CHAU", "Huyện Diễn Châu", "commune", ("Diễn Kỷ", "Diễn Hồng", "Diễn Thành")),
    ("QUYNH-LUU", "Huyện Quỳnh Lưu", "commune", ("Quỳnh Lương", "Quỳnh Bảng", "Sơn Hải")),
    ("YEN-THANH", "Huyện Yên Thành", "commune", ("Hoa Thành", "Công Thành", "Tăng Thành")),
    ("DO-LUONG", "Huyện Đô Lương", "commune", ("Đà Sơn", "Lạc Sơn", "Thượng Sơn")),
    ("THANH-CHUONG", "Huyện Thanh Chương", "commune", ("Thanh Ngọc", "Thanh Liên", "Thanh Đồng")),
)
DIFFICULT = frozenset({"Thượng Sơn", "Thanh Đồng", "Thanh Liên"})
AGENCIES = (
    "Văn phòng Tỉnh ủy", "Ban Tổ chức Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy",
    "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Tư pháp",
)  # fmt: skip
SERVICE_UNITS = ("Trường Chính trị tỉnh", "Đài Phát thanh và Truyền hình tỉnh", "Báo Nghệ An")
STATE_ENTERPRISES = (
    "Công ty TNHH MTV Thủy lợi Bắc Nghệ An", "Công ty CP Cấp nước Nghệ An", "Công ty Điện lực Nghệ An",
    "Công ty TNHH MTV Lâm nghiệp Con Cuông", "Công ty CP Cảng Nghệ Tĩnh",
    "Công ty TNHH MTV Xổ số kiến thiết Nghệ An",
)  # fmt: skip
TRADE_WORDS = (
    "Sông Lam", "Hồng Lĩnh", "Minh Phát", "Trường Thịnh", "Phú Thành", "Hưng Long", "Đại Dương", "Tân Thành",
    "Bắc Miền Trung", "Hoàng Long", "Thành Vinh", "An Phú", "Nam Việt", "Phúc Lộc", "Kim Sơn", "Đông Á",
)  # fmt: skip
TRADES = ("Xây dựng", "Thương mại", "May mặc", "Vật liệu xây dựng", "Thực phẩm", "Vận tải", "Cơ khí",
          "Dược phẩm", "Du lịch", "Gỗ", "Thủy sản", "Điện tử")  # fmt: skip
FOREIGN_WORDS = ("Sunrise", "Hanvina", "Kyung Dong", "Everstar", "Luxway", "Daewon", "Taiyo", "Goldsun",
                 "Hiroshi", "Formosa Tech", "Youngone", "Pan Pacific")  # fmt: skip

PRE_PERIOD_ENTERPRISES = 173  # grassroots organizations in enterprises before 2021, 4 dissolved in 2022
NEW_ENTERPRISES = 40
DISSOLVED_ENTERPRISES = 4
ENTERPRISE_COMMITTEES = 10  # of the pre-period ones: grassroots committees with two cells each
ENTERPRISE_ADMISSIONS = 469
OTHER_ADMISSIONS = 150
EARLIER_ADMISSIONS = 80  # in 2019-2020, recognized in the period
RECOGNIZED_BY = dt.date(2021, 12, 31)  # members admitted up to this day are recognized 12-14 months later


def slug(text: str) -> str:
    """ASCII code part: "Hưng Đạo" → "HUNG-DAO"."""
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(c for c in plain if not unicodedata.combining(c))
    return "-".join(letters.upper().split())


class OrgsBuilder:
    def __init__(self, plan: Plan, rng: random.Random, people: People) -> None:
        self.plan, self.rng, self.people = plan, rng, people
        self.communes: list[str] = []  # keys
        self.commune_cells: dict[str, list[str]] = {}
        self.agencies: list[str] = []  # KCQ agencies' grassroots cells
        self.district_keys: list[str] = []
        self.enterprise_receivers: list[str] = []  # orgs admitting members in enterprises (active at the end)
        self.other_receivers: list[str] = []

    # --- tree ---

    def org(
        self, phase: str, code: str, name: str, level: str, kind: str, parent: str | None,
        established_on: dt.date, tags: tuple[str, ...] = (),
    ) -> Op:  # fmt: skip
        key = f"org:{code}"
        if parent is not None and established_on <= self.plan.orgs[parent].established_on:
            raise ValueError(f"{code} would be established before its parent {parent}")
        self.plan.orgs[key] = OrgSpec(key, code, name, level, kind, parent, established_on)
        body = {
            "code": code, "name": name, "level": level, "kind": kind, "established_on": established_on,
            "tags": list(tags), "parent_id": None if parent is None else Ref(parent),
            "decision_no": f"{self.rng.randrange(10, 999)}-QĐ/{'TW' if parent is None else 'TU'}",
        }  # fmt: skip
        op = Op("orgs", "organization", "POST", "/organizations", body, key=key)
        self.plan.phase(phase).ops.append(op)
        return op

    def old_date(self, first: int, last: int) -> dt.date:
        return self.people.day_between(dt.date(first, 1, 1), dt.date(last, 12, 31))

    def build_tree(self) -> None:
        self.org("province", "NA", "Đảng bộ tỉnh Nghệ An", "province", "other", None, dt.date(1930, 4, 9))
        for code, name, kind, communes in DISTRICTS:
            district = self._district(code, name, kind, communes)
            self.district_keys.append(district)
        kcq = self.org("committees", "NA.KCQ", "Đảng bộ Khối các cơ quan tỉnh", "upper_grassroots", "agency",
                       "org:NA", dt.date(1997, 3, 1)).key  # fmt: skip
        kdn = self.org("committees", "NA.KDN", "Đảng bộ Khối doanh nghiệp tỉnh", "upper_grassroots", "other",
                       "org:NA", dt.date(2008, 5, 6)).key  # fmt: skip
        assert kcq is not None and kdn is not None
        self._agencies(kcq)
        self._state_enterprises(kdn)
        self._enterprises(kdn)

    def _district(self, code: str, name: str, kind: str, communes: tuple[str, ...]) -> str:
        key = f"org:NA.{code}"
        self.org("committees", f"NA.{code}", f"Đảng bộ {name[0].lower()}{name[1:]}", "upper_grassroots",
                 "other", "org:NA", self.old_date(1946, 1975))  # fmt: skip
        unit = "phường" if kind == "ward" else "xã"
        for commune in communes:
            ccode = f"NA.{code}.{slug(commune)}"
            tags = ("difficult_area",) if commune in DIFFICULT else ()
            self.org("grassroots", ccode, f"Đảng bộ {unit} {commune}", "grassroots_committee", kind, key,
                     self.old_date(1976, 2000), tags)  # fmt: skip
            ckey = f"org:{ccode}"
            self.communes.append(ckey)
            cell_word = "khối" if kind == "ward" else "xóm"
            cells = []
            for n in (1, 2):
                self.org("cells", f"{ccode}.C{n}", f"Chi bộ {cell_word} {n}", "cell", "residential", ckey,
                         self.old_date(2001, 2010))  # fmt: skip
                cells.append(f"org:{ccode}.C{n}")
            self.commune_cells[ckey] = cells
            self.other_receivers += cells
        agency = self.org("grassroots", f"NA.{code}.CQ", f"Chi bộ Cơ quan {name[0].lower()}{name[1:]} ủy",
                          "grassroots_cell", "agency", key, self.old_date(1980, 2000)).key  # fmt: skip
        school = self.org("grassroots", f"NA.{code}.THPT", f"Chi bộ Trường THPT {communes[0]}",
                          "grassroots_cell", "school", key, self.old_date(1990, 2005)).key  # fmt: skip
        assert agency is not None and school is not None
        self.agencies.append(agency)
        self.other_receivers += [agency, school]
        return key

    def _agencies(self, kcq: str) -> None:
        for name in AGENCIES:
            op = self.org("grassroots", f"NA.KCQ.{slug(name)}", f"Chi bộ {name}", "grassroots_cell", "agency",
                          kcq, self.old_date(1998, 2005))  # fmt: skip
            assert op.key is not None
            self.agencies.append(op.key)
            self.other_receivers.append(op.key)
        for name in SERVICE_UNITS:
            op = self.org("grassroots", f"NA.KCQ.{slug(name)}", f"Chi bộ {name}", "grassroots_cell",
                          "public_service_unit", kcq, self.old_date(1998, 2005))  # fmt: skip
            assert op.key is not None
            self.other_receivers.append(op.key)

    def _state_enterprises(self, kdn: str) -> None:
        for i, name in enumerate(STATE_ENTERPRISES, 1):
            code = f"NA.KDN.DNNN{i}"
            self.org("grassroots", code, f"Đảng bộ {name}", "grassroots_committee", "state_enterprise", kdn,
                     self.old_date(2009, 2012))  # fmt: skip
            for n in (1, 2):
                self.org("cells", f"{code}.C{n}", f"Chi bộ Phân xưởng {n}", "cell", "state_enterprise",
                         f"org:{code}", self.old_date(2013, 2015))  # fmt: skip
                self.other_receivers.append(f"org:{code}.C{n}")

    def _enterprise_name(self, i: int, fdi: bool) -> str:
        if fdi:
            return f"Công ty TNHH {self.rng.choice(FOREIGN_WORDS)} Việt Nam {i}"
        form = self.rng.choice(("Công ty TNHH", "Công ty CP"))
        return f"{form} {self.rng.choice(TRADES)} {self.rng.choice(TRADE_WORDS)} {i}"

    def _enterprises(self, kdn: str) -> None:
        """173 before the period (10 committees with two cells; 4 dissolved in 2022), 40 established in it."""
        total = PRE_PERIOD_ENTERPRISES + NEW_ENTERPRISES
        for i in range(1, total + 1):
            new = i > PRE_PERIOD_ENTERPRISES
            fdi = i % 4 == 0
            parent = kdn if i % 5 < 3 else self.district_keys[i % len(self.district_keys)]
            code = f"{self.plan.orgs[parent].code}.DN{i:03d}"
            name = self._enterprise_name(i, fdi)
            established = (
                self.people.day_between(PERIOD_FROM, dt.date(2022, 10, 31))
                if new
                else self.old_date(2009, 2020)
            )
            if not new and i <= ENTERPRISE_COMMITTEES:
                self._enterprise_committee(code, name, fdi, parent, established)
                continue
            op = self.org("grassroots", code, f"Chi bộ {name}", "grassroots_cell",
                          "fdi_enterprise" if fdi else "private_enterprise", parent, established)  # fmt: skip
            assert op.key is not None
            if ENTERPRISE_COMMITTEES < i <= ENTERPRISE_COMMITTEES + DISSOLVED_ENTERPRISES:
                self._dissolve(op, dt.date(2022, 2 + 2 * (i - ENTERPRISE_COMMITTEES), 15))
            else:
                self.enterprise_receivers.append(op.key)

    def _enterprise_committee(self, code: str, name: str, fdi: bool, parent: str, day: dt.date) -> None:
        kind = "fdi_enterprise" if fdi else "private_enterprise"
        self.org("grassroots", code, f"Đảng bộ {name}", "grassroots_committee", kind, parent, day)
        for n in (1, 2):
            self.org("cells", f"{code}.C{n}", f"Chi bộ Bộ phận {n}", "cell", kind, f"org:{code}",
                     day + dt.timedelta(days=30))  # fmt: skip
            self.enterprise_receivers.append(f"org:{code}.C{n}")

    def _dissolve(self, op: Op, day: dt.date) -> None:
        assert op.key is not None
        spec = self.plan.orgs[op.key]
        self.plan.orgs[op.key] = OrgSpec(**{**spec.__dict__, "dissolved_on": day})
        op.then.append(
            Op(
                "orgs",
                "dissolution",
                "POST",
                f"/organizations/{{{op.key}}}/dissolve",
                {
                    "effective_on": day,
                    "decision_no": f"{self.rng.randrange(100, 999)}-QĐ/ĐUK",
                    "reason": "Doanh nghiệp giải thể, chấm dứt hoạt động",
                },
            )
        )

    # --- members ---

    def build_members(self) -> None:
        phase = self.plan.phase("people")
        receivers = list(self.enterprise_receivers)
        # Each new organization admits three members, the rest go to the older ones.
        new = [k for k in receivers if self.plan.orgs[k].established_on >= PERIOD_FROM]
        targets = [k for k in new for _ in range(3)]
        targets += [self.rng.choice(receivers) for _ in range(ENTERPRISE_ADMISSIONS - len(targets))]
        targets += [self.rng.choice(self.other_receivers) for _ in range(OTHER_ADMISSIONS)]
        ops = [self._member(n, org, self._admission_day(org)) for n, org in enumerate(targets)]
        earlier_cells = [c for cells in self.commune_cells.values() for c in cells]
        for n in range(EARLIER_ADMISSIONS):
            day = self.people.day_between(dt.date(2019, 7, 1), dt.date(2020, 12, 31))
            ops.append(self._member(len(targets) + n, self.rng.choice(earlier_cells), day))
        self._moves(ops[-EARLIER_ADMISSIONS:], earlier_cells)
        phase.ops += ops

    def _admission_day(self, org: str) -> dt.date:
        start = max(PERIOD_FROM, self.plan.orgs[org].established_on + dt.timedelta(days=31))
        return self.people.day_between(start, PERIOD_TO)

    def _member(self, n: int, org: str, day: dt.date) -> Op:
        gender = self.people.gender(0.45)
        birth = self.people.birth_date(day, 20, 45)
        key = f"member:{n}"
        body = {
            "full_name": self.people.name(gender), "birth_date": birth, "gender": gender,
            "org_id": Ref(org), "admitted_on": day, "ethnicity": "Kinh", "religion": None,
            "national_id": self.people.national_id(birth, gender), "member_no": f"{100000 + n:06d}NA",
            "decision_no": f"{self.rng.randrange(10, 999)}-QĐ/ĐU",
        }  # fmt: skip
        op = Op("orgs", "member", "POST", "/members", body, key=key)
        if day <= RECOGNIZED_BY:
            recognized = (
                day.replace(year=day.year + 1)
                if (day.month, day.day) != (2, 29)
                else dt.date(day.year + 1, 3, 1)
            )
            recognized += dt.timedelta(days=self.rng.randrange(0, 60))
            op.then.append(
                Op(
                    "orgs",
                    "recognition",
                    "POST",
                    f"/members/{{{key}}}/recognition",
                    {
                        "recognized_on": recognized,
                        "decision_no": f"{self.rng.randrange(10, 999)}-QĐ/ĐU",
                        "card_no": f"{40_000_000 + n}",
                    },
                )
            )
        return op

    def _moves(self, earlier: list[Op], cells: list[str]) -> None:
        """A few official and temporary transfers and departures among the members admitted earlier."""
        reasons = ("deceased", "deceased", "withdrawn", "withdrawn", "removed", "removed")
        for i, op in enumerate(earlier[:21]):
            assert op.key is not None and op.then
            since: dt.date = op.then[0].body["recognized_on"]
            day = max(since, dt.date(2022, 1, 1)) + dt.timedelta(days=30 + i)
            here = op.body["org_id"].key
            if i < 12:
                to = self.rng.choice([c for c in cells if c != here])
                body = {"to_org_id": Ref(to), "kind": "official", "effective_on": day}
                op.then.append(Op("orgs", "transfer", "POST", f"/members/{{{op.key}}}/transfers", body))
            elif i < 15:
                to = self.rng.choice([c for c in cells if c != here])
                body = {"to_org_id": Ref(to), "kind": "temporary", "effective_on": day,
                        "until": day + dt.timedelta(days=183)}  # fmt: skip
                op.then.append(Op("orgs", "transfer", "POST", f"/members/{{{op.key}}}/transfers", body))
            else:
                body = {"reason": reasons[i - 15], "effective_on": day}
                op.then.append(Op("orgs", "departure", "POST", f"/members/{{{op.key}}}/departure", body))

    # --- units, ratings, documents ---

    def build_units(self) -> None:
        phase = self.plan.phase("people")
        for n, commune in enumerate(self.communes):
            kind = self.plan.orgs[commune].kind
            unit_kinds = ("khoi", "to_dan_pho") if kind == "ward" else ("xom", "thon")
            covered = [*self.commune_cells[commune], *([None] if n % 3 == 0 else [])]
            for i, cell in enumerate(covered, 1):
                word = {"khoi": "Khối", "to_dan_pho": "Tổ dân phố", "xom": "Xóm", "thon": "Thôn"}
                unit = unit_kinds[i % 2]
                body = {"name": f"{word[unit]} {i}", "kind": unit, "commune_org_id": Ref(commune),
                        "covering_org_id": None if cell is None else Ref(cell),
                        "established_on": dt.date(2016, 1, 1)}  # fmt: skip
                phase.ops.append(Op("orgs", "residential unit", "POST", "/residential-units", body))

    def build_ratings(self) -> None:
        phase = self.plan.phase("people")
        levels = ["excellent"] * 2 + ["good"] * 6 + ["completed"] * 2
        for org in [*self.communes, *self.agencies]:
            for year in (2021, 2022):
                rating = "failed" if self.rng.random() < 0.03 else self.rng.choice(levels)
                path = f"/organizations/{{{org}}}/ratings/{year}"
                phase.ops.append(Op("orgs", "rating", "PUT", path, {"rating": rating}))


def enterprise_figures(plan: Plan) -> dict[str, int]:
    """What the sector report will count for enterprises (private + FDI), recomputed from the plan."""
    grassroots = [o for o in plan.orgs.values() if o.level in ("grassroots_committee", "grassroots_cell")]
    enterprise = [o for o in grassroots if o.kind in ENTERPRISE_KINDS]
    admitted = sum(
        1
        for op in plan.walk()
        if op.what == "member"
        and PERIOD_FROM <= op.body["admitted_on"] <= PERIOD_TO
        and plan.grassroots_kind(op.body["org_id"].key) in ENTERPRISE_KINDS
    )
    return {
        "established": sum(1 for o in enterprise if PERIOD_FROM <= o.established_on <= PERIOD_TO),
        "active_at_end": sum(1 for o in enterprise if o.active_on(PERIOD_TO)),
        "admitted": admitted,
    }


# --- documents ------------------------------------------------------------------------------------------

DOCUMENTS_IN_PERIOD = {
    "plan": 18, "regulation": 19, "project": 9, "conclusion": 5, "report": 55,
    "resolution": 6, "directive": 4, "instruction": 3,
}  # fmt: skip
DOCUMENTS_OUTSIDE = {"report": 3, "plan": 2, "resolution": 1}  # 2020 and 2023, on both sides of the period
DOCUMENT_SIGNS = {
    "plan": ("KH", "Kế hoạch"), "regulation": ("QĐi", "Quy định"), "project": ("ĐA", "Đề án"),
    "conclusion": ("KL", "Kết luận"), "report": ("BC", "Báo cáo"), "resolution": ("NQ", "Nghị quyết"),
    "directive": ("CT", "Chỉ thị"), "instruction": ("HD", "Hướng dẫn"),
}  # fmt: skip
TOPICS = (
    "công tác xây dựng tổ chức cơ sở đảng trong doanh nghiệp ngoài khu vực nhà nước",
    "tinh giản biên chế và cơ cấu lại đội ngũ cán bộ, công chức, viên chức",
    "công tác quy hoạch, luân chuyển cán bộ lãnh đạo, quản lý",
    "nâng cao chất lượng sinh hoạt chi bộ",
    "công tác phát triển đảng viên",
    "đào tạo, bồi dưỡng lý luận chính trị cho cán bộ",
    "sắp xếp tổ chức bộ máy của hệ thống chính trị",
    "công tác bảo vệ chính trị nội bộ",
    "kiểm điểm, đánh giá, xếp loại chất lượng tổ chức đảng và đảng viên",
)


def build_documents(plan: Plan, rng: random.Random, people: People) -> None:
    """The register of the department's documents: the seed report's counts in the period, a few outside."""
    phase = plan.phase("grassroots")
    numbers: dict[str, int] = {}
    dated = [(kind, n, True) for kind, count in DOCUMENTS_IN_PERIOD.items() for n in range(count)]
    dated += [(kind, n, False) for kind, count in DOCUMENTS_OUTSIDE.items() for n in range(count)]
    for i, (kind, n, inside) in enumerate(dated):
        if inside:
            # The first and the last of the reports fall on the period's first and last day (both count).
            edges = {0: PERIOD_FROM, 1: PERIOD_TO} if kind == "report" else {}
            day = edges.get(n) or people.day_between(PERIOD_FROM, PERIOD_TO)
        else:
            day = dt.date(2020, 12, 31) if n % 2 == 0 else dt.date(2023, 1, 1) + dt.timedelta(days=40 * n)
        sign, word = DOCUMENT_SIGNS[kind]
        numbers[kind] = numbers.get(kind, 0) + rng.randrange(3, 12)
        body = {
            "number": f"{numbers[kind]}-{sign}/TU", "kind": kind, "issued_on": day,
            "title": f"{word} về {TOPICS[i % len(TOPICS)]}", "issuer_org_id": Ref("org:NA"),
        }  # fmt: skip
        phase.ops.append(Op("orgs", "document", "POST", "/documents", body))
