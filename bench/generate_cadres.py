"""Synthetic national-scale cadres data, deterministic by seed, on top of bench/generate_tree.py's tree.

``--scale 1.0`` (national): the organization projection of the ~370,000-organization tree, ~100,000 posts
over the upper committees and grassroots organizations (secretaries, deputies, executive members, chairs,
heads…), ~300,000 cadres (Vietnamese names, birth dates 1960–1995, genders, education, declared theory levels,
home organizations), ~1,000,000 personnel actions decided 2015–2024 of every kind, the assignments those
actions started and ended (simulated per cadre in date order, so the rows agree with the actions), plans for
the 2025-2030 term (and a few for 2020-2025, so the sector report's planning section has candidates), and
payroll entries per upper committee for 2021 and 2022.

Rows are tuples in the column order of ``*_COLUMNS`` (the service's tables). Cadres, their actions,
assignments and plans come in batches (``Data.batches()``), each batch from its own RNG (seed, batch number),
so the data is the same whatever the batch is used for.

    .venv/bin/python bench/generate_cadres.py --scale 0.05        # summary only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

from generate_tree import Tree, generate  # noqa: E402

from services.cadres.personnel.checks import term_last_day  # noqa: E402
from shared.orgtree.repository import tags_text  # noqa: E402
from shared.text import normalize, vietnamese_sort_key  # noqa: E402
from shared.tree import child_path  # noqa: E402

NATIONAL_CADRES = 300_000
NATIONAL_ACTIONS = 1_000_000
FIRST_DAY = dt.date(2015, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)
RECORDED_AT = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
RECORDED_BY = "bench-loader"
BATCH_CADRES = 20_000

ORG_COLUMNS = (
    "node", "id", "code", "name", "level", "kind", "tags", "parent_id", "path", "status", "established_on",
    "ended_on", "merged_into_id", "sequence", "updated_at",
)  # fmt: skip
POST_COLUMNS = (
    "id", "org_id", "title", "category", "seats", "required_theory_level", "min_years_in_prior_post",
    "version", "recorded_at",
)  # fmt: skip
CADRE_COLUMNS = (
    "id", "full_name", "name_search", "sort_key", "birth_date", "gender", "national_id", "member_id",
    "education", "declared_theory_level", "status", "org_id", "version", "recorded_at",
)  # fmt: skip
ACTION_COLUMNS = (
    "id", "kind", "cadre_id", "post_id", "from_org_id", "to_org_id", "decision_no", "decided_on",
    "effective_on", "ends_on", "note", "findings", "findings_acknowledged", "acknowledgement_reason",
    "recorded_at", "recorded_by", "request_id",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "cadre_id", "post_id", "org_id", "kind", "starts_on", "ends_on", "term_ends_on", "started_by",
    "ended_by", "version", "recorded_at",
)  # fmt: skip
PLAN_COLUMNS = (
    "id", "cadre_id", "post_id", "term", "added_on", "removed_on", "removal_reason", "findings",
    "acknowledged_reason", "recorded_at", "recorded_by",
)  # fmt: skip
PAYROLL_COLUMNS = (
    "id", "org_id", "year", "category", "allocated", "actual", "recorded_at", "recorded_by", "request_id",
)  # fmt: skip

FAMILY = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4.5),
    ("Vũ", 3.9), ("Võ", 3), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1),
    ("Lý", 0.5), ("Đinh", 1), ("Trương", 1), ("Lương", 0.6), ("Mai", 0.5),
)  # fmt: skip
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Đình", "Ngọc", "Quang", "Trọng")
MIDDLE_F = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hồng", "Diệu", "Phương")
GIVEN_M = (
    "An Bình Cường Dũng Đạt Hải Hùng Huy Khang Khánh Long Minh Nam Nghĩa Phong Phúc Quân Sơn Tài Thắng Thành "
    "Thịnh Toàn Trung Tuấn Việt Vinh Hoàng Hiếu Lâm Tùng Kiên Hưng Lợi"
).split()
GIVEN_F = (
    "Anh Chi Dung Giang Hà Hạnh Hằng Hoa Hương Lan Linh Loan Mai Nga Ngân Nhung Oanh Phương Quyên Thảo Trang "
    "Tuyết Uyên Vân Yến Hiền Hồng Thủy Liên Diệp"
).split()
EDUCATION = (("secondary", 3), ("college", 8), ("bachelor", 62), ("master", 24), ("doctor", 3))
THEORY = (("none", 10), ("elementary", 30), ("intermediate", 40), ("advanced", 18), ("bachelor", 2))

# Share of actions by kind (Vietnamese practice: many introductions, appointments, arrangements, transfers).
KIND_WEIGHTS = {
    "candidate_introduction": 18, "appointment": 14, "arrangement": 5, "transfer": 13,
    "appointment_opinion": 8, "reappointment": 7, "designation": 5, "rotation": 4, "relief": 4,
    "retirement": 3.5, "secondment": 2, "resignation": 2, "dismissal": 1, "removal": 0.5,
}  # fmt: skip
KINDS = list(KIND_WEIGHTS)
KIND_CUM = [sum(list(KIND_WEIGHTS.values())[: i + 1]) for i in range(len(KINDS))]
MOVES = {"transfer", "rotation", "secondment"}
TIME_LIMITED = {"rotation", "secondment"}
STARTS = MOVES | {"arrangement", "appointment", "designation"}
ENDS = {"dismissal", "relief", "resignation", "removal", "retirement"}
TERMED = {"appointment", "reappointment"}
RECORDED_ONLY = {"candidate_introduction", "appointment_opinion"}
COMMITTEE_SEATS = {"secretary", "deputy_secretary", "standing_member", "executive_member"}

TITLES = {
    "secretary": "Bí thư", "deputy_secretary": "Phó Bí thư", "standing_member": "Ủy viên Ban Thường vụ",
    "executive_member": "Ủy viên Ban Chấp hành", "inspection_chair": "Chủ nhiệm Ủy ban Kiểm tra",
    "head": "Trưởng ban", "deputy_head": "Phó Trưởng ban", "chair": "Chủ tịch Ủy ban nhân dân",
    "vice_chair": "Phó Chủ tịch Ủy ban nhân dân", "other": "Chánh Văn phòng",
}  # fmt: skip


def new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@cache
def _name_keys(full_name: str) -> tuple[str, str]:
    return normalize(full_name), vietnamese_sort_key(full_name)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


@dataclass
class Batch:
    cadres: list[tuple[Any, ...]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    plans: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.cadres) + len(self.actions) + len(self.assignments) + len(self.plans)


@dataclass
class Data:
    tree: Tree
    seed: int
    scale: float
    orgs: list[tuple[Any, ...]]  # ORG_COLUMNS
    org_ids: list[uuid.UUID]  # by tree index
    upper_of: list[int | None]  # tree index -> its upper committee's tree index
    posts: list[tuple[Any, ...]]  # POST_COLUMNS
    posts_by_upper: dict[int, list[int]]  # upper tree index -> post indexes
    payroll: list[tuple[Any, ...]]  # PAYROLL_COLUMNS
    homes: list[int]  # tree indexes cadres may have as home organization
    n_cadres: int
    actions_per_cadre: float

    @property
    def n_batches(self) -> int:
        return (self.n_cadres + BATCH_CADRES - 1) // BATCH_CADRES

    def batches(self) -> Iterator[Batch]:
        for b in range(self.n_batches):
            yield self.batch(b)

    def batch(self, number: int) -> Batch:
        rng = random.Random(f"{self.seed}/cadres/{number}")
        out = Batch()
        first = number * BATCH_CADRES
        for _ in range(first, min(first + BATCH_CADRES, self.n_cadres)):
            self._cadre(rng, out)
        return out

    # ------------------------------------------------------------------------------------------ one cadre

    def _pick_post(self, rng: random.Random, upper: int | None) -> tuple[Any, ...]:
        if upper is not None and upper in self.posts_by_upper and rng.random() < 0.75:
            return self.posts[rng.choice(self.posts_by_upper[upper])]
        return self.posts[rng.randrange(len(self.posts))]

    def _cadre(self, rng: random.Random, out: Batch) -> None:
        cadre_id = new_id(rng)
        home = rng.choice(self.homes)
        upper = self.upper_of[home]
        female = rng.random() < 0.32
        family = rng.choices([f for f, _ in FAMILY], [w for _, w in FAMILY])[0]
        middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        full_name = f"{family} {middle} {given}"
        name_search, sort_key = _name_keys(full_name)
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(36 * 365))

        # ---- the career: actions in date order, and the assignments they start and end
        n = max(1, round(rng.gauss(self.actions_per_cadre, 1.6)))
        days = sorted(rng.randrange((LAST_DAY - FIRST_DAY).days + 1) for _ in range(n))
        held: list[dict[str, Any]] = []  # assignments, all of them (ended ones too)
        last_effective = FIRST_DAY - dt.timedelta(days=1)
        status = "active"
        for i, offset in enumerate(days):
            decided = max(FIRST_DAY + dt.timedelta(days=offset), last_effective)
            if decided > LAST_DAY:
                break
            effective = min(decided + dt.timedelta(days=rng.randint(0, 30)), LAST_DAY)
            current = [
                a
                for a in held
                if a["starts_on"] <= effective and (a["ends_on"] is None or a["ends_on"] > effective)
            ]
            kind = (
                rng.choice(("arrangement", "appointment"))
                if i == 0
                else KINDS[_bisect(KIND_CUM, rng.random() * KIND_CUM[-1])]
            )
            age = (effective - birth).days / 365.25
            if kind == "retirement" and age < 55:
                kind = "relief"
            if kind in MOVES | ENDS - {"retirement"} | {"reappointment"} and not current:
                kind = rng.choice(("arrangement", "appointment", "appointment"))
            termed = [a for a in current if a["term_ends_on"] is not None]
            if kind == "reappointment" and not termed:
                kind = "appointment"
            post = None
            if kind in STARTS | RECORDED_ONLY:
                post = self._pick_post(rng, upper)
                if kind == "designation" and post[3] not in COMMITTEE_SEATS:
                    kind = "appointment"
                if kind in STARTS and any(a["post_id"] == post[0] for a in current):
                    kind = "candidate_introduction"  # already holds it: only a proposal
            action_id = new_id(rng)
            ending: list[dict[str, Any]] = []
            from_org = to_org = None
            ends_on = None
            post_id = post[0] if post else None
            if kind in MOVES:
                ending = list(current)
            elif kind == "reappointment":
                renewed = rng.choice(termed)
                ending = [renewed]
                post_id = renewed["post_id"]
                to_org = renewed["org_id"]
            elif kind == "retirement":
                ending = list(current)
                status = "retired"
            elif kind in ENDS:
                held_one = rng.choice(current)
                ending = [held_one]
                post_id = held_one["post_id"]
            origins = {a["org_id"] for a in ending}
            if kind in MOVES | ENDS and len(origins) == 1:
                from_org = next(iter(origins))
            if post is not None and kind in STARTS:
                to_org = post[1]
            elif kind in RECORDED_ONLY and rng.random() < 0.5:
                to_org = post[1] if post else None
            if kind in TIME_LIMITED:
                ends_on = effective + dt.timedelta(days=365 * rng.randint(1, 3))
            for a in ending:
                a["ends_on"], a["ended_by"], a["version"] = effective, action_id, a["version"] + 1
            if kind in STARTS or kind == "reappointment":
                org_id = post[1] if post is not None and kind != "reappointment" else to_org
                held.append({
                    "id": new_id(rng), "post_id": post_id, "org_id": org_id, "kind": kind, "starts_on": effective,
                    "ends_on": ends_on, "term_ends_on": term_last_day(effective, 5) if kind in TERMED else None,
                    "started_by": action_id, "ended_by": None, "version": 2 if ends_on else 1,
                })  # fmt: skip
            out.actions.append((
                action_id, kind, cadre_id, post_id, from_org, to_org,
                f"{rng.randint(1, 4999)}-QĐ/{rng.choice(('TU', 'HU', 'ĐU', 'BTCTW'))}", decided, effective, ends_on,
                None, [], False, None, RECORDED_AT, RECORDED_BY, None,
            ))  # fmt: skip
            last_effective = effective
            if status == "retired":
                break
        for a in held:
            out.assignments.append((
                a["id"], cadre_id, a["post_id"], a["org_id"], a["kind"], a["starts_on"], a["ends_on"],
                a["term_ends_on"], a["started_by"], a["ended_by"], a["version"], RECORDED_AT,
            ))  # fmt: skip
        out.cadres.append((
            cadre_id, full_name, name_search, sort_key, birth, "female" if female else "male",
            f"{rng.randrange(10**12):012d}" if rng.random() < 0.8 else None,
            new_id(rng) if rng.random() < 0.9 else None,
            _weighted(rng, EDUCATION), _weighted(rng, THEORY), status, self.org_ids[home], 1, RECORDED_AT,
        ))  # fmt: skip
        # ---- plans: the 2025-2030 term (added 2025) for ~12 % of active cadres; 2020-2025 for ~6 %
        if status == "active":
            for term, share, lo, hi in (
                ("2025-2030", 0.12, dt.date(2025, 1, 6), dt.date(2025, 6, 30)),
                ("2020-2025", 0.06, dt.date(2021, 1, 4), dt.date(2022, 6, 30)),
            ):
                if rng.random() < share:
                    chosen = {self._pick_post(rng, upper)[0] for _ in range(rng.randint(1, 2))}
                    for post_id in sorted(chosen):
                        added = lo + dt.timedelta(days=rng.randrange((hi - lo).days))
                        out.plans.append(
                            (new_id(rng), cadre_id, post_id, term, added, None, None, [], None, RECORDED_AT,
                             RECORDED_BY)
                        )  # fmt: skip


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _posts_of(rng: random.Random, node: Any) -> list[tuple[str, int]]:
    """(category, seats) of one organization's posts."""
    if node.level == "upper_grassroots":
        posts = [("secretary", 1), ("deputy_secretary", 3), ("standing_member", 11), ("executive_member", 35),
                 ("inspection_chair", 1), ("chair", 1), ("vice_chair", 3), ("other", 1)]  # fmt: skip
        posts += [("head", 1) for _ in range(8)] + [("deputy_head", 3) for _ in range(8)]
        return posts
    if node.level == "grassroots_committee":
        posts = [("secretary", 1)]
        if rng.random() < 0.6:
            posts.append(("deputy_secretary", rng.randint(1, 2)))
        if rng.random() < 0.3:
            posts.append(("executive_member", rng.randint(3, 9)))
        if rng.random() < 0.15:
            posts.append(("inspection_chair", 1))
        if node.kind in ("commune", "ward", "special_zone"):
            if rng.random() < 0.5:
                posts.append(("chair", 1))
            if rng.random() < 0.3:
                posts.append(("vice_chair", 2))
        elif node.kind in ("agency", "public_service_unit") and rng.random() < 0.4:
            posts.append(("head", 1))
            if rng.random() < 0.5:
                posts.append(("deputy_head", 2))
        return posts
    if node.level == "grassroots_cell":
        posts = [("secretary", 1)] if rng.random() < 0.8 else []
        if rng.random() < 0.1:
            posts.append(("deputy_secretary", 1))
        return posts
    return []


def build(*, scale: float = 1.0, seed: int = 1, tree: Tree | None = None) -> Data:
    """Everything but the per-cadre batches (the projection, posts, payroll), built in memory."""
    tree = tree or generate(scale=scale, seed=seed)
    rng = random.Random(f"{seed}/cadres")
    updated_at = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
    orgs, ids, paths, upper_of = [], [], [], []
    for node in tree.nodes:
        number = node.index + 1
        org_id = new_id(rng)
        parent_path = paths[node.parent] if node.parent is not None else None
        path = child_path(parent_path, number)
        ids.append(org_id)
        paths.append(path)
        if node.level == "upper_grassroots":
            upper_of.append(node.index)
        else:
            upper_of.append(upper_of[node.parent] if node.parent is not None else None)
        orgs.append((
            number, org_id, node.code, node.name, node.level, node.kind, tags_text(node.tags),
            ids[node.parent] if node.parent is not None else None, path, "active", node.established_on,
            None, None, 1, updated_at,
        ))  # fmt: skip
    posts: list[tuple[Any, ...]] = []
    posts_by_upper: dict[int, list[int]] = {}
    homes: list[int] = []
    for node in tree.nodes:
        if node.level in ("upper_grassroots", "grassroots_committee", "grassroots_cell"):
            homes.extend([node.index] * (20 if node.level == "upper_grassroots" else 1))
        for category, seats in _posts_of(rng, node):
            title = f"{TITLES[category]} – {node.name}"[:300]
            level = None
            if category in ("secretary", "deputy_secretary", "chair"):
                level = "advanced" if node.level == "upper_grassroots" else rng.choice((None, "intermediate"))
            years = 3 if node.level == "upper_grassroots" and category in ("secretary", "chair") else None
            if upper_of[node.index] is not None:
                posts_by_upper.setdefault(upper_of[node.index], []).append(len(posts))
            posts.append((new_id(rng), ids[node.index], title, category, seats, level, years, 1, RECORDED_AT))
    payroll = []
    for node in tree.nodes:
        if node.level != "upper_grassroots":
            continue
        for category, base in (
            ("civil_servant", rng.randint(1500, 6000)),
            ("public_employee", rng.randint(8000, 30000)),
        ):
            allocated = base
            for year in (2021, 2022):
                actual = allocated - rng.randint(0, allocated // 20)
                payroll.append(
                    (
                        len(payroll) + 1,
                        ids[node.index],
                        year,
                        category,
                        allocated,
                        actual,
                        RECORDED_AT,
                        RECORDED_BY,
                        None,
                    )
                )
                allocated = round(allocated * rng.uniform(0.90, 0.99))
    n_cadres = max(100, round(NATIONAL_CADRES * scale))
    return Data(
        tree=tree, seed=seed, scale=scale, orgs=orgs, org_ids=ids, upper_of=upper_of, posts=posts,
        posts_by_upper=posts_by_upper, payroll=payroll, homes=homes, n_cadres=n_cadres,
        actions_per_cadre=NATIONAL_ACTIONS / NATIONAL_CADRES,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = build(scale=args.scale, seed=args.seed)
    kinds: Counter[str] = Counter()
    counts = Counter()
    years: Counter[int] = Counter()
    for batch in data.batches():
        counts.update(cadres=len(batch.cadres), actions=len(batch.actions), assignments=len(batch.assignments),
                      plans=len(batch.plans), retired=sum(1 for c in batch.cadres if c[10] == "retired"),
                      open_assignments=sum(1 for a in batch.assignments if a[6] is None))  # fmt: skip
        kinds.update(a[1] for a in batch.actions)
        years.update(a[7].year for a in batch.actions)
    print(json.dumps({
        "organizations": len(data.orgs), "posts": len(data.posts),
        "post_categories": dict(Counter(p[3] for p in data.posts).most_common()),
        "payroll_entries": len(data.payroll), **counts,
        "actions_by_kind": dict(kinds.most_common()), "actions_by_year": dict(sorted(years.items())),
        "seconds": round(time.perf_counter() - t0, 1),
    }, ensure_ascii=False, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
