"""Synthetic national-scale training data, deterministic by seed, on top of bench/generate_cadres.py.

``--scale 1.0`` (national): what training keeps of the country — the organization projection (~370,000
organizations), the posts with their theory requirements (~100,000), the cadres (~300,000) with their
assignments and plans as cadres' events would have projected them — plus the catalogue (political theory at
four levels, fostering, knowledge updates, professional, Party awareness, new members), ~30,000 courses from
2015 to 2025 and ~1,500,000 enrollments (about five per cadre: sent by the cadre's home organization a few
weeks before the course starts; most completed, some failed or withdrawn, the last courses still running).

Rows are tuples in the column order of ``*_COLUMNS`` (training's tables). Per-cadre rows come in batches
(``TrainingData.batches()``), each from its own RNG (seed, batch number), so the data is the same whatever the
batch is used for. Courses are written with ``enrolled = 0``; the loader counts the seats taken afterwards.

    .venv/bin/python bench/generate_training.py --scale 0.05        # summary only
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

import generate_cadres as gc  # noqa: E402

from services.training.levels import theory_rank  # noqa: E402

NATIONAL_ENROLLMENTS = 1_500_000
SEATS_PER_COURSE = 50
FIRST_YEAR, LAST_YEAR = 2015, 2025
DATA_END = dt.date(2025, 6, 30)  # courses starting later are not generated; running ones stay `enrolled`
RECORDED_AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
RECORDED_BY = "bench-loader"

CADRE_COLUMNS = (
    "id", "org_id", "member_id", "full_name", "sort_key", "gender", "birth_date", "education",
    "declared_theory_level", "declared_rank", "status", "sequence", "updated_at",
)  # fmt: skip
POST_COLUMNS = (
    "id", "org_id", "org_path", "title", "category", "seats", "required_theory_level", "required_rank",
    "sequence", "updated_at",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "cadre_id", "post_id", "org_id", "starts_on", "ends_on", "term_ends_on", "sequence", "ended_sequence",
    "updated_at",
)  # fmt: skip
PLAN_COLUMNS = ("id", "cadre_id", "post_id", "term", "added_on", "removed_on", "sequence", "updated_at")
PROGRAMME_COLUMNS = (
    "id", "code", "name", "kind", "theory_level", "theory_rank", "duration_months", "version", "recorded_at",
)  # fmt: skip
COURSE_COLUMNS = (
    "id", "programme_id", "code", "name", "provider", "mode", "starts_on", "ends_on", "capacity", "enrolled",
    "target_group", "version", "recorded_at",
)  # fmt: skip
ENROLLMENT_COLUMNS = (
    "id", "course_id", "cadre_id", "sent_by_org_id", "sent_on", "status", "completed_on", "certificate_no",
    "withdrawn_on", "withdrawal_reason", "programme_id", "programme_kind", "theory_level", "theory_rank",
    "findings", "findings_acknowledged", "acknowledgement_reason", "version", "recorded_by", "recorded_at",
)  # fmt: skip

# (code, name, kind, theory level, months, share of the courses)
PROGRAMMES = (
    ("LLCT-SC", "Sơ cấp lý luận chính trị", "political_theory", "elementary", 3, 10),
    ("LLCT-TC", "Trung cấp lý luận chính trị - hành chính", "political_theory", "intermediate", 8, 16),
    ("LLCT-CC", "Cao cấp lý luận chính trị", "political_theory", "advanced", 12, 6),
    ("LLCT-CN", "Cử nhân chính trị", "political_theory", "bachelor", 36, 1),
    ("BD-CU", "Bồi dưỡng cấp ủy viên cơ sở", "fostering", None, 1, 12),
    ("BD-BT", "Bồi dưỡng bí thư chi bộ", "fostering", None, 1, 8),
    ("BD-LD", "Bồi dưỡng lãnh đạo, quản lý cấp phòng", "fostering", None, 2, 6),
    ("CNKT-A", "Cập nhật kiến thức đối tượng 4", "knowledge_update", None, 1, 6),
    ("CNKT-B", "Cập nhật kiến thức đối tượng 3", "knowledge_update", None, 1, 3),
    ("CM-QLNN", "Quản lý nhà nước ngạch chuyên viên", "professional", None, 2, 10),
    ("CM-CVC", "Quản lý nhà nước ngạch chuyên viên chính", "professional", None, 2, 6),
    ("NTĐ", "Nhận thức về Đảng", "party_awareness", None, 1, 8),
    ("ĐVM", "Chương trình lý luận chính trị dành cho đảng viên mới", "new_member", None, 1, 8),
)  # fmt: skip
PROVIDERS = (
    "Học viện Chính trị quốc gia Hồ Chí Minh", "Học viện Chính trị khu vực", "Trường Chính trị tỉnh",
    "Trung tâm chính trị", "Trường Đào tạo cán bộ",
)  # fmt: skip
# Status of a finished course's enrollment (running courses keep `enrolled`).
OUTCOMES = (("completed", 88), ("failed", 4), ("withdrawn", 8))


@dataclass
class Batch:
    cadres: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    plans: list[tuple[Any, ...]] = field(default_factory=list)
    enrollments: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.cadres) + len(self.assignments) + len(self.plans) + len(self.enrollments)


@dataclass
class TrainingData:
    cadres: gc.Data  # the cadres' generator: tree, posts, the per-cadre batches training projects
    seed: int
    orgs: list[tuple[Any, ...]]  # gc.ORG_COLUMNS (the shared projection's columns)
    posts: list[tuple[Any, ...]]  # POST_COLUMNS
    programmes: list[tuple[Any, ...]]  # PROGRAMME_COLUMNS
    courses: list[tuple[Any, ...]]  # COURSE_COLUMNS
    course_weights: list[float]  # cumulative, for picking a course per enrollment
    enrollments_per_cadre: float

    @property
    def n_cadres(self) -> int:
        return self.cadres.n_cadres

    @property
    def n_batches(self) -> int:
        return self.cadres.n_batches

    def batches(self) -> Iterator[Batch]:
        for b in range(self.n_batches):
            yield self.batch(b)

    def batch(self, number: int) -> Batch:
        source = self.cadres.batch(number)
        rng = random.Random(f"{self.seed}/training/{number}")
        out = Batch()
        for c in source.cadres:
            (cadre_id, full_name, _search, sort_key, birth, gender, _nid, member_id, education, declared,
             status, org_id, _version, _at) = c  # fmt: skip
            out.cadres.append((
                cadre_id, org_id, member_id, full_name, sort_key, gender, birth, education, declared,
                theory_rank(declared), status, 1, RECORDED_AT,
            ))  # fmt: skip
            self._enrollments(rng, cadre_id, org_id, out)
        for a in source.assignments:
            (assignment_id, cadre_id, post_id, org_id, _kind, starts_on, ends_on, term_ends_on, *_rest) = a
            out.assignments.append((
                assignment_id, cadre_id, post_id, org_id, starts_on, ends_on, term_ends_on, 1,
                2 if ends_on else 0, RECORDED_AT,
            ))  # fmt: skip
        for plan in source.plans:
            plan_id, cadre_id, post_id, term, added_on, removed_on, *_rest = plan
            out.plans.append((plan_id, cadre_id, post_id, term, added_on, removed_on, 1, RECORDED_AT))
        return out

    def _enrollments(self, rng: random.Random, cadre_id: uuid.UUID, org_id: uuid.UUID, out: Batch) -> None:
        n = min(12, max(0, round(rng.gauss(self.enrollments_per_cadre, 2.0))))
        seen: set[int] = set()
        for _ in range(n):
            index = gc._bisect(self.course_weights, rng.random() * self.course_weights[-1])
            if index in seen:
                continue  # one enrollment per cadre and course
            seen.add(index)
            course = self.courses[index]
            course_id, programme_id, _code, _name, _prov, _mode, starts_on, ends_on = course[:8]
            programme = self.programme_by_id[programme_id]
            sent_on = starts_on - dt.timedelta(days=rng.randint(7, 45))
            status, completed_on, certificate, withdrawn_on, reason = "enrolled", None, None, None, None
            if ends_on <= DATA_END:
                status = gc._weighted(rng, OUTCOMES)
                if status == "completed":
                    completed_on = ends_on
                    certificate = f"{ends_on.year}/{rng.randrange(10**6):06d}"
                elif status == "failed":
                    completed_on = ends_on
                else:
                    withdrawn_on = starts_on + dt.timedelta(
                        days=rng.randint(0, max(0, (ends_on - starts_on).days))
                    )
                    reason = "Được điều động công tác khác"
            out.enrollments.append((
                gc.new_id(rng), course_id, cadre_id, org_id, sent_on, status, completed_on, certificate,
                withdrawn_on, reason, programme_id, programme[3], programme[4], programme[5], [], False, None,
                1 if status == "enrolled" else 2, RECORDED_BY, RECORDED_AT,
            ))  # fmt: skip

    @property
    def programme_by_id(self) -> dict[uuid.UUID, tuple[Any, ...]]:
        cached: dict[uuid.UUID, tuple[Any, ...]] | None = getattr(self, "_programmes", None)
        if cached is None:
            cached = {p[0]: p for p in self.programmes}
            self._programmes = cached
        return cached


def build(*, scale: float = 1.0, seed: int = 1) -> TrainingData:
    """Everything but the per-cadre batches: the projection of organizations and posts, the catalogue."""
    cadres = gc.build(scale=scale, seed=seed)
    rng = random.Random(f"{seed}/training")
    org_id_at, org_path_at = gc.ORG_COLUMNS.index("id"), gc.ORG_COLUMNS.index("path")
    org_paths = {org[org_id_at]: org[org_path_at] for org in cadres.orgs}
    posts = [
        (
            post_id,
            org_id,
            org_paths[org_id],
            title,
            category,
            seats,
            level,
            theory_rank(level) if level else None,
            1,
            RECORDED_AT,
        )
        for post_id, org_id, title, category, seats, level, _years, _version, _at in cadres.posts
    ]
    programmes = [
        (
            gc.new_id(rng),
            code,
            name,
            kind,
            level,
            theory_rank(level) if level else None,
            months,
            1,
            RECORDED_AT,
        )
        for code, name, kind, level, months, _share in PROGRAMMES
    ]
    n_enrollments = NATIONAL_ENROLLMENTS * cadres.n_cadres / gc.NATIONAL_CADRES
    n_courses = max(len(PROGRAMMES) * 4, round(n_enrollments / SEATS_PER_COURSE * 1.1))
    shares = [share for *_rest, share in PROGRAMMES]
    courses: list[tuple[Any, ...]] = []
    weights: list[float] = []
    total_days = (DATA_END - dt.date(FIRST_YEAR, 1, 1)).days
    for number in range(n_courses):
        index = rng.choices(range(len(PROGRAMMES)), shares)[0]
        code, name, kind, _level, months, _share = PROGRAMMES[index]
        mode = "full_time" if kind == "political_theory" and rng.random() < 0.4 else "in_service"
        starts_on = dt.date(FIRST_YEAR, 1, 1) + dt.timedelta(days=rng.randrange(total_days))
        ends_on = starts_on + dt.timedelta(days=round(months * 30.4) - 1)
        seats = rng.randint(30, 70)
        courses.append((
            gc.new_id(rng), programmes[index][0], f"{code}-{starts_on.year}-{number:05d}",
            f"{name} khóa {number}", rng.choice(PROVIDERS), mode, starts_on, ends_on, seats * 2, 0,
            None, 1, RECORDED_AT,
        ))  # fmt: skip
        weights.append((weights[-1] if weights else 0) + seats)
    return TrainingData(
        cadres=cadres, seed=seed, orgs=cadres.orgs, posts=posts, programmes=programmes, courses=courses,
        course_weights=weights, enrollments_per_cadre=n_enrollments / cadres.n_cadres,
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
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for batch in data.batches():
        counts.update(cadres=len(batch.cadres), assignments=len(batch.assignments), plans=len(batch.plans),
                      enrollments=len(batch.enrollments))  # fmt: skip
        statuses.update(e[5] for e in batch.enrollments)
        levels.update(e[12] or e[11] for e in batch.enrollments)
    print(json.dumps({
        "organizations": len(data.orgs), "posts": len(data.posts),
        "posts_with_requirement": sum(1 for p in data.posts if p[6]), "programmes": len(data.programmes),
        "courses": len(data.courses), **counts, "enrollments_by_status": dict(statuses.most_common()),
        "enrollments_by_level_or_kind": dict(levels.most_common()), "seconds": round(time.perf_counter() - t0, 1),
    }, ensure_ascii=False, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
