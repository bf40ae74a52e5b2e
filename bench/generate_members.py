"""Synthetic Party members over the generated national tree, deterministic by seed.

Members are placed in the organizations where members are active (``members.admission_levels``: ``cell`` and
``grassroots_cell``) of ``generate_tree.generate(scale, seed)``: 9 to 24 per organization (mean 16.5), so
``--scale 1`` gives ~5.66 million members over 343,328 organizations (~150,000 of them in the big committee
``VN.U01.BIG``).

Each member is stored as the service stores it (services/orgs/members/service.py): one ``members`` row
(``name_search = normalize(full_name)``, ``sort_key = vietnamese_sort_key(full_name)``, ``version`` = the
number of changes) and its ``member_states`` rows, each closing the previous one on the day the next begins:

* ``probationary`` from ``admitted_on`` (1975–2024, weighted to recent years; members of private and FDI
  enterprises mostly admitted since 2008), at 18–45 years of age (a few up to 60);
* ``official`` from ``recognized_on`` = 12 months + 0–120 days later (if before ``DATA_END``), with a card;
* for ~3 % of the older official members, ``exempt`` from some day after their 65th birthday;
* ~8 % ``left`` (deceased, more likely the older the admission; withdrawn; removed; expelled), a few of them
  during probation.

Simplification (a bench, not a migration): the synthetic tree begins in 2000, so a member admitted earlier
has its first state in its organization from ``admitted_on`` although that organization was established
later. No transfers, temporary activities, history (``member_changes``) or ratings are generated.

    .venv/bin/python bench/generate_members.py --scale 0.05          # summary only
    .venv/bin/python bench/generate_members.py --scale 1 --sample 20  # summary and 20 members
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_tree import Tree, generate  # noqa: E402

from services.orgs.members.search import name_rest, name_starts  # noqa: E402
from services.orgs.members.service import add_months  # noqa: E402
from shared.text import normalize, vietnamese_sort_key  # noqa: E402

MEMBER_LEVELS = ("cell", "grassroots_cell")
PER_ORG = (9, 24)  # members per organization, uniform: mean 16.5
FIRST_YEAR, LAST_YEAR = 1975, 2024
DATA_END = dt.date(2025, 6, 30)  # the records stand as of this day: no change after it
RECORDED_AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)

# Family names: approximate shares in Viet Nam (Nguyễn ~38 %); the rest spread over the long tail.
FAMILY = {
    "Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.0, "Hoàng": 3.0, "Huỳnh": 2.1, "Phan": 4.5,
    "Vũ": 2.2, "Võ": 1.7, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3, "Ngô": 1.3, "Dương": 1.0,
    "Lý": 0.5, "Đào": 0.5, "Đoàn": 0.5, "Trịnh": 0.5, "Trương": 0.5, "Đinh": 0.5, "Lâm": 0.4, "Mai": 0.4,
    "Phùng": 0.3, "Hà": 0.3, "Lương": 0.3, "Cao": 0.3, "Tạ": 0.2, "Lưu": 0.2, "Vương": 0.2, "Tô": 0.2,
    "Châu": 0.15, "Thái": 0.15, "Quách": 0.1, "Kiều": 0.1, "Triệu": 0.1, "La": 0.05, "Khúc": 0.03, "Âu": 0.02,
}  # fmt: skip
MIDDLE_MALE = {
    "Văn": 45, "Đức": 8, "Minh": 8, "Quốc": 5, "Thanh": 5, "Hữu": 6, "Công": 5, "Xuân": 4, "Ngọc": 3,
    "Quang": 4, "Trọng": 3, "Hoàng": 2, "Đình": 4, "Tiến": 2, "Mạnh": 2,
}  # fmt: skip
MIDDLE_FEMALE = {
    "Thị": 60, "Ngọc": 7, "Thu": 5, "Thanh": 5, "Minh": 3, "Hồng": 4, "Phương": 3, "Kim": 4, "Mai": 2,
    "Thúy": 3, "Bích": 2, "Diệu": 2,
}  # fmt: skip
SECOND_MIDDLE_FEMALE = ("Thu", "Ngọc", "Thanh", "Hồng", "Kim", "Minh", "Phương")
SECOND_MIDDLE_MALE = ("Minh", "Quốc", "Anh", "Đức", "Hoàng", "Thanh")
# Given names in rough order of frequency (Zipf-like weights 1/rank: the tail is rare).
GIVEN_MALE = (
    "Hùng Dũng Tuấn Minh Hải Nam Thắng Sơn Long Cường Hưng Thành Trung Hòa Bình Quang Đức Việt Phong Huy "
    "Tâm Hiếu Khánh Toàn Tùng Vinh Lâm Nghĩa Phúc Tài Tiến Thịnh Đạt Quân Lộc Khoa Kiên An Anh Thái Hoàng "
    "Chiến Cảnh Hiển Luân Nhân Phát Quyết Thuận Tín Trí Vũ Bảo Duy Hậu Khải Khiêm Lực Ngọc Sang Tấn Thiện"
).split()
GIVEN_FEMALE = (
    "Hương Lan Hoa Linh Hà Trang Thảo Hằng Mai Ngọc Phương Thủy Huyền Hạnh Dung Nga Yến Anh Hiền Loan "
    "Nhung Vân Thu Liên Hồng Giang Tâm Chi Quỳnh My Ngân Oanh Tuyết Uyên Châu Diệp Duyên Gấm Hảo Hậu Lệ Lụa "
    "Mận Nguyệt Nhàn Phượng Sen Thắm Thoa Trâm Vy Xuân Yên"
).split()
ETHNICITIES = {"Kinh": 86, "Tày": 2.5, "Thái": 2, "Mường": 1.8, "Khmer": 1.5, "Hoa": 1, "Nùng": 1.5,
               "H'Mông": 1.2, "Dao": 1, "Gia Rai": 0.5, "Ê Đê": 0.4, "Ba Na": 0.3, "Chăm": 0.3}  # fmt: skip
LEFT_REASONS = ("deceased", "withdrawn", "removed", "expelled")

MEMBER_COLUMNS = (
    "id", "member_no", "full_name", "name_search", "name_rest", "sort_key", "birth_date", "gender",
    "national_id", "ethnicity", "religion", "admitted_on", "decision_no", "version", "recorded_at",
    "admitted_org_node",
)  # fmt: skip
NAME_START_COLUMNS = ("name_start", "member_id")
STATE_COLUMNS = (
    "id", "member_id", "valid_from", "valid_to", "status", "left_reason", "org_node", "residence_unit_id",
    "recognized_on", "card_no",
)  # fmt: skip


@dataclass
class Batch:
    """A chunk of members (tuples in ``MEMBER_COLUMNS`` order), their states (``STATE_COLUMNS``) and their
    ``member_name_starts`` rows (``NAME_START_COLUMNS``)."""

    members: list[tuple] = field(default_factory=list)
    states: list[tuple] = field(default_factory=list)
    name_starts: list[tuple] = field(default_factory=list)


def _cum(weights: dict[str, float] | list[float]) -> list[float]:
    return list(itertools.accumulate(weights.values() if isinstance(weights, dict) else weights))


class _Names:
    """Name parts with cumulative weights; normalize/sort keys cached (names repeat a lot)."""

    def __init__(self) -> None:
        self.family = list(FAMILY)
        self.family_cum = _cum(FAMILY)
        self.mid_m, self.mid_m_cum = list(MIDDLE_MALE), _cum(MIDDLE_MALE)
        self.mid_f, self.mid_f_cum = list(MIDDLE_FEMALE), _cum(MIDDLE_FEMALE)
        self.given_m_cum = _cum([1 / (i + 1) ** 0.9 for i in range(len(GIVEN_MALE))])
        self.given_f_cum = _cum([1 / (i + 1) ** 0.9 for i in range(len(GIVEN_FEMALE))])
        self.eth, self.eth_cum = list(ETHNICITIES), _cum(ETHNICITIES)
        self._keys: dict[str, tuple[str, str | None, str, list[str]]] = {}

    def full_name(self, rng: random.Random, male: bool) -> str:
        family = rng.choices(self.family, cum_weights=self.family_cum)[0]
        if male:
            middle = rng.choices(self.mid_m, cum_weights=self.mid_m_cum)[0]
            if rng.random() < 0.08:
                middle = f"{middle} {rng.choice(SECOND_MIDDLE_MALE)}"
            given = rng.choices(GIVEN_MALE, cum_weights=self.given_m_cum)[0]
        else:
            middle = rng.choices(self.mid_f, cum_weights=self.mid_f_cum)[0]
            if rng.random() < 0.15:
                middle = f"{middle} {rng.choice(SECOND_MIDDLE_FEMALE)}"
            given = rng.choices(GIVEN_FEMALE, cum_weights=self.given_f_cum)[0]
        return f"{family} {middle} {given}"

    def keys(self, full_name: str) -> tuple[str, str | None, str, list[str]]:
        """name_search, name_rest, sort_key and the name starts (``services.orgs.members.search``)."""
        found = self._keys.get(full_name)
        if found is None:
            norm = normalize(full_name)
            found = (norm, name_rest(norm), vietnamese_sort_key(full_name), name_starts(norm))
            self._keys[full_name] = found
        return found


def member_orgs(tree: Tree) -> list[tuple[int, str, dt.date]]:
    """(node, kind, established_on) of every organization where members are active; node = index + 1."""
    return [(n.index + 1, n.kind, n.established_on) for n in tree.nodes if n.level in MEMBER_LEVELS]


def expected_members(tree: Tree) -> int:
    return round(len(member_orgs(tree)) * sum(PER_ORG) / 2)


def generate_members(tree: Tree, *, seed: int = 1, chunk: int = 50_000) -> Iterator[Batch]:
    """Yield the members of ``tree`` in batches of about ``chunk`` members (deterministic by seed)."""
    rng = random.Random(f"members-{seed}")
    names = _Names()
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    # more admissions in recent years (older members have died; the Party grew)
    years_cum = _cum([1 + 0.05 * (y - FIRST_YEAR) for y in years])
    recent_cum = _cum([0.05 if y < 2008 else 1.0 + 0.08 * (y - 2008) for y in years])
    day0 = {y: dt.date(y, 1, 1).toordinal() for y in years}
    end_ord = DATA_END.toordinal()
    fromord = dt.date.fromordinal
    batch = Batch()
    member_no = 0
    state_id = 0
    for node, kind, _established in member_orgs(tree):
        enterprise = kind in ("private_enterprise", "fdi_enterprise")
        for _ in range(rng.randint(*PER_ORG)):
            member_no += 1
            male = rng.random() < 0.62
            full_name = names.full_name(rng, male)
            name_search, rest, sort_key, starts = names.keys(full_name)
            year = rng.choices(years, cum_weights=recent_cum if enterprise else years_cum)[0]
            admitted = day0[year] + rng.randint(0, 364)
            if admitted > end_ord:
                admitted = end_ord - rng.randint(0, 180)
            age = 18 + int(rng.triangular(0, 27, 6)) if rng.random() < 0.97 else rng.randint(46, 60)
            birth = admitted - age * 365 - rng.randint(1, 360)
            member_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            admitted_on = fromord(admitted)
            states: list[list] = []  # [valid_from, status, left_reason, recognized_on, card_no]
            states.append([admitted_on, "probationary", None, None, None])
            r = rng.random()
            recognized = add_months(admitted_on, 12) + dt.timedelta(days=rng.randint(0, 120))
            if r < 0.015 and recognized.toordinal() <= end_ord:
                # left during probation
                left_on = fromord(admitted + rng.randint(60, 330))
                states.append([left_on, "left", rng.choice(("withdrawn", "removed", "expelled")), None, None])
            elif recognized.toordinal() <= end_ord:
                card = f"{member_no:08d}{rng.randint(0, 99):02d}"
                states.append([recognized, "official", None, recognized, card])
                last = recognized.toordinal()
                age65 = birth + 65 * 366
                if age65 < end_ord and rng.random() < 0.12:
                    exempt_on = max(last + 1, age65) + rng.randint(0, 900)
                    if exempt_on <= end_ord:
                        states.append([fromord(exempt_on), "exempt", None, recognized, card])
                        last = exempt_on
                # leaving: deceased more likely the longer ago the admission
                p_dead = 0.01 + 0.0035 * max(0, 2010 - year)
                p = rng.random()
                reason = None
                if p < p_dead:
                    reason = "deceased"
                elif p < p_dead + 0.012:
                    reason = "withdrawn"
                elif p < p_dead + 0.024:
                    reason = "removed"
                elif p < p_dead + 0.028:
                    reason = "expelled"
                if reason is not None and last + 30 < end_ord:
                    left_on = last + 30 + int((end_ord - last - 30) * rng.random() ** 0.7)
                    states.append([fromord(left_on), "left", reason, recognized, card])
            # else: still probationary on DATA_END
            batch.members.append(
                (
                    member_id,
                    f"{member_no:09d}",
                    full_name,
                    name_search,
                    rest,
                    sort_key,
                    fromord(birth),
                    "male" if male else "female",
                    f"{rng.randint(1, 96):03d}{rng.randint(0, 999_999_999):09d}",
                    rng.choices(names.eth, cum_weights=names.eth_cum)[0],
                    None if rng.random() < 0.93 else rng.choice(("Phật giáo", "Công giáo", "Cao Đài")),
                    admitted_on,
                    f"{rng.randint(1, 9999)}-QĐ/ĐU",
                    len(states),
                    RECORDED_AT,
                    node,
                )
            )
            for start in starts:
                batch.name_starts.append((start, member_id))
            for i, (valid_from, status, left_reason, recognized_on, card_no) in enumerate(states):
                valid_to = states[i + 1][0] if i + 1 < len(states) else None
                state_id += 1
                batch.states.append(
                    (
                        state_id,
                        member_id,
                        valid_from,
                        valid_to,
                        status,
                        left_reason,
                        node,
                        None,
                        recognized_on,
                        card_no,
                    )
                )
            if len(batch.members) >= chunk:
                yield batch
                batch = Batch()
    if batch.members:
        yield batch


def summary(tree: Tree, batches: Iterator[Batch]) -> dict[str, object]:
    members = states = 0
    status_now: Counter[str] = Counter()
    left: Counter[str] = Counter()
    families: Counter[str] = Counter()
    admitted_2021_22 = 0
    names: Counter[str] = Counter()
    for batch in batches:
        members += len(batch.members)
        states += len(batch.states)
        for m in batch.members:
            families[m[2].split(" ")[0]] += 1
            names[m[3]] += 1
            if dt.date(2021, 1, 1) <= m[MEMBER_COLUMNS.index("admitted_on")] <= dt.date(2022, 12, 31):
                admitted_2021_22 += 1
        for s in batch.states:
            if s[3] is None:
                status_now[s[4]] += 1
                if s[5]:
                    left[s[5]] += 1
    return {
        "organizations": len(tree.nodes),
        "member_organizations": len(member_orgs(tree)),
        "members": members,
        "states": states,
        "current_status": dict(status_now),
        "left_by_reason": dict(left),
        "admitted_2021_2022": admitted_2021_22,
        "family_share_pct": {k: round(100 * v / members, 1) for k, v in families.most_common(12)},
        "distinct_names": len(names),
        "most_common_names": names.most_common(5),
        "nguyen van an": names.get("nguyen van an", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = national (~5.66 million members)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-subtree", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=0, help="also print the first N members and states")
    args = parser.parse_args()
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    if args.sample:
        batch = next(generate_members(tree, seed=args.seed, chunk=args.sample))
        for m in batch.members[: args.sample]:
            print(json.dumps(dict(zip(MEMBER_COLUMNS, m, strict=True)), ensure_ascii=False, default=str))
            for s in batch.states:
                if s[1] == m[0]:
                    print("   ", json.dumps(dict(zip(STATE_COLUMNS, s, strict=True)), default=str))
    print(json.dumps(summary(tree, generate_members(tree, seed=args.seed)), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
