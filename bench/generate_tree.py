"""A synthetic national-scale Party organization tree, deterministic by seed.

Shape (``--scale 1.0``): one ``province``-level national root ``VN``; 35 ``upper_grassroots`` committees
under it; ~60,000 grassroots organizations (``grassroots_committee`` / ``grassroots_cell``, kinds spread over
commune, ward, agency, enterprises, schools…); ~300,000 ``cell``s, only under grassroots committees (and the
sub-committees of the large ones), as services/orgs/rules.yaml allows. Everything is established on dates
in 2000–2020, a child never before its parent.

On top of that, independent of ``--scale``, one **big** grassroots committee (``VN.U01.BIG``) whose
subtree has ``--big-subtree`` nodes (default 10,000: the committee, ~100 sub-committees, the rest cells),
so the benchmarks always have a 10,000-node subtree to read and to move.

    .venv/bin/python bench/generate_tree.py --scale 0.05            # summary only
    .venv/bin/python bench/generate_tree.py --scale 1 --out bench/out/tree.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field

NATIONAL_UPPER = 35
NATIONAL_GRASSROOTS = 60_000
NATIONAL_CELLS = 300_000
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2020, 12, 31)

SYLLABLES = (
    "An Bình Phú Thạnh Hưng Nguyên Đông Tây Nam Bắc Hòa Long Tân Mỹ Phước Quảng Thanh Trung Vĩnh Yên Hải Sơn "
    "Lâm Thủy Xuân Hồng Cẩm Đức Lộc Thịnh Hiệp Kim Ngọc Diễn Quỳnh Nghĩa Hương Khánh Châu Định Lợi Thái Thọ "
    "Phong Điền Quế Võ Hà Tiên Lạc Cát Thượng Hạ Kỳ Lương Triệu Tường Ninh Gia Văn Chí Linh Đồng Tháp Sa Bảo"
).split()
DEPARTMENTS = (
    "Tài chính",
    "Tư pháp",
    "Nội vụ",
    "Xây dựng",
    "Y tế",
    "Giáo dục và Đào tạo",
    "Nông nghiệp và Môi trường",
    "Công Thương",
    "Khoa học và Công nghệ",
    "Văn hóa, Thể thao và Du lịch",
    "Dân tộc và Tôn giáo",
    "Ngoại vụ",
)
COMPANY_WORDS = (
    "Thương mại",
    "Xây lắp",
    "Cơ khí",
    "Dệt may",
    "Thủy sản",
    "Vận tải",
    "Điện lực",
    "Cấp nước",
    "Dược phẩm",
    "Xi măng",
    "Chế biến gỗ",
    "Lương thực",
    "Cao su",
    "Phân bón",
    "Thép",
    "Du lịch",
)
FOREIGN_NAMES = (
    "Samsung",
    "Foxconn",
    "Pouchen",
    "Canon",
    "LG Display",
    "Intel Products",
    "Hyosung",
    "Formosa",
    "Nidec",
    "Taekwang",
    "Yazaki",
    "Bridgestone",
    "Heineken",
    "Nestlé",
    "Unilever",
)
SCHOOLS = ("Trường Tiểu học", "Trường Trung học cơ sở", "Trường THPT", "Trường Mầm non")

# kind -> (share of grassroots organizations, share that are committees rather than grassroots cells)
KINDS: dict[str, tuple[float, float]] = {
    "commune": (0.24, 0.97),
    "ward": (0.07, 0.97),
    "special_zone": (0.002, 1.0),
    "agency": (0.16, 0.25),
    "public_service_unit": (0.09, 0.25),
    "state_enterprise": (0.03, 0.60),
    "private_enterprise": (0.14, 0.10),
    "fdi_enterprise": (0.03, 0.15),
    "cooperative": (0.03, 0.05),
    "military": (0.03, 0.50),
    "police": (0.04, 0.70),
    "residential": (0.008, 0.10),
    "school": (0.16, 0.08),
    "other": (0.02, 0.20),
}


@dataclass(slots=True)
class Node:
    """One organization; ``index`` is its position in ``Tree.nodes`` (parents always come first)."""

    index: int
    parent: int | None
    code: str
    name: str
    level: str
    kind: str
    established_on: dt.date
    tags: list[str] = field(default_factory=list)
    decision_no: str | None = None
    decided_on: dt.date | None = None


@dataclass
class Tree:
    nodes: list[Node]
    big: int  # the index of the big grassroots committee (its subtree is --big-subtree nodes)
    move_parents: tuple[int, int]  # two upper_grassroots committees the big one moves between
    seed: int
    scale: float

    def subtree_size(self, index: int) -> int:
        children: dict[int, list[int]] = {}
        for node in self.nodes:
            if node.parent is not None:
                children.setdefault(node.parent, []).append(node.index)
        size, stack = 0, [index]
        while stack:
            size += 1
            stack.extend(children.get(stack.pop(), []))
        return size


def _place(rng: random.Random) -> str:
    return f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"


def _day_after(rng: random.Random, start: dt.date, end: dt.date = LAST_DAY) -> dt.date:
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, max(span, 0)))


def _tags(rng: random.Random, kind: str) -> list[str]:
    if kind not in ("commune", "special_zone", "residential"):
        return []
    tags = []
    for tag, p in (
        ("ethnic_minority_area", 0.15),
        ("difficult_area", 0.10),
        ("religious_area", 0.05),
        ("border_area", 0.03),
    ):
        if rng.random() < p:
            tags.append(tag)
    return tags


def _grassroots_name(rng: random.Random, kind: str, committee: bool) -> str:
    prefix = "Đảng bộ" if committee else "Chi bộ"
    match kind:
        case "commune":
            return f"{prefix} xã {_place(rng)}"
        case "ward":
            return f"{prefix} phường {_place(rng)}"
        case "special_zone":
            return f"{prefix} đặc khu {_place(rng)}"
        case "agency":
            return (
                f"{prefix} Sở {rng.choice(DEPARTMENTS)}"
                if rng.random() < 0.5
                else f"{prefix} Văn phòng Ủy ban nhân dân {_place(rng)}"
            )
        case "public_service_unit":
            unit = rng.choice(("Bệnh viện Đa khoa", "Trung tâm Y tế", "Trung tâm Văn hóa"))
            return f"{prefix} {unit} {_place(rng)}"
        case "state_enterprise":
            return f"{prefix} Công ty TNHH MTV {rng.choice(COMPANY_WORDS)} {_place(rng)}"
        case "private_enterprise":
            return f"{prefix} Công ty Cổ phần {rng.choice(COMPANY_WORDS)} {_place(rng)}"
        case "fdi_enterprise":
            return f"{prefix} Công ty TNHH {rng.choice(FOREIGN_NAMES)} Việt Nam"
        case "cooperative":
            return f"{prefix} Hợp tác xã {rng.choice(('Nông nghiệp', 'Dịch vụ', 'Thủy sản'))} {_place(rng)}"
        case "military":
            return f"{prefix} Ban Chỉ huy Quân sự {_place(rng)}"
        case "police":
            return f"{prefix} Công an {rng.choice(('xã', 'phường'))} {_place(rng)}"
        case "school":
            return f"{prefix} {rng.choice(SCHOOLS)} {_place(rng)}"
        case "residential":
            return f"{prefix} khu dân cư {_place(rng)}"
        case _:
            return f"{prefix} Hội {rng.choice(('Nông dân', 'Cựu chiến binh', 'Chữ thập đỏ'))} {_place(rng)}"


def _cell_name(rng: random.Random, kind: str, n: int) -> str:
    match kind:
        case "commune":
            return f"Chi bộ {rng.choice(('thôn', 'ấp', 'bản', 'xóm'))} {_place(rng)}"
        case "ward" | "special_zone" | "residential":
            return f"Chi bộ {rng.choice(('khu phố', 'tổ dân phố'))} số {n}"
        case "state_enterprise" | "private_enterprise" | "fdi_enterprise" | "cooperative":
            return f"Chi bộ {rng.choice(('Phân xưởng', 'Phòng Kỹ thuật', 'Đội sản xuất', 'Chi nhánh'))} {n}"
        case "military":
            return f"Chi bộ Đại đội {n}"
        case "police":
            return f"Chi bộ Đội {rng.choice(('Cảnh sát', 'An ninh', 'Tổng hợp'))} {n}"
        case "school":
            return f"Chi bộ Tổ {rng.choice(('Ngữ văn', 'Toán – Tin', 'Khoa học', 'Văn phòng'))} {n}"
        case _:
            return f"Chi bộ Phòng {rng.choice(('Tổng hợp', 'Nghiệp vụ', 'Hành chính', 'Kế hoạch'))} {n}"


def _decision(rng: random.Random, day: dt.date) -> tuple[str, dt.date]:
    return f"{rng.randint(1, 2999)}-QĐ/TU", day - dt.timedelta(days=rng.randint(0, 30))


def generate(*, scale: float = 1.0, seed: int = 1, big_subtree: int = 10_000) -> Tree:
    rng = random.Random(seed)
    nodes: list[Node] = []

    def add(
        parent: int | None,
        code: str,
        name: str,
        level: str,
        kind: str,
        day: dt.date,
        tags: list[str] | None = None,
    ) -> int:
        decision_no, decided_on = _decision(rng, day)
        nodes.append(
            Node(len(nodes), parent, code, name, level, kind, day, tags or [], decision_no, decided_on)
        )
        return len(nodes) - 1

    root = add(None, "VN", "Đảng bộ toàn quốc (gốc tổng hợp)", "province", "other", FIRST_DAY)
    n_upper = max(3, round(NATIONAL_UPPER * scale))
    n_grassroots = max(n_upper, round(NATIONAL_GRASSROOTS * scale))
    n_cells = round(NATIONAL_CELLS * scale)

    uppers = []
    for u in range(n_upper):
        kind, label = rng.choice(
            (
                ("commune", "huyện"),
                ("ward", "thành phố"),
                ("ward", "thị xã"),
                ("agency", "Khối các cơ quan"),
                ("state_enterprise", "Khối Doanh nghiệp"),
            )
        )
        name = f"Đảng bộ {label} {_place(rng)}"
        uppers.append(
            add(
                root,
                f"VN.U{u + 1:02d}",
                name,
                "upper_grassroots",
                kind,
                _day_after(rng, FIRST_DAY, dt.date(2001, 12, 31)),
            )
        )

    # The big committee, under the first upper committee; it moves between the first two.
    big = add(
        uppers[0],
        "VN.U01.BIG",
        "Đảng bộ Tập đoàn Công nghiệp Than – Khoáng sản (tổng hợp)",
        "grassroots_committee",
        "state_enterprise",
        dt.date(2003, 5, 15),
    )
    if big_subtree > 1:
        n_sub = max(1, round(math.sqrt(big_subtree - 1)))
        n_big_cells = big_subtree - 1 - n_sub
        subs = [
            add(
                big,
                f"VN.U01.BIG.S{s + 1:03d}",
                f"Đảng bộ bộ phận Công ty {rng.choice(COMPANY_WORDS)} {_place(rng)}",
                "sub_committee",
                "state_enterprise",
                _day_after(rng, dt.date(2003, 5, 15), dt.date(2008, 12, 31)),
            )
            for s in range(n_sub)
        ]
        for c in range(n_big_cells):
            parent = subs[c % n_sub]
            add(
                parent,
                f"{nodes[parent].code}.C{c // n_sub + 1:03d}",
                _cell_name(rng, "state_enterprise", c // n_sub + 1),
                "cell",
                "state_enterprise",
                _day_after(rng, nodes[parent].established_on),
            )

    # Grassroots organizations, spread unevenly over the upper committees.
    weights = [rng.uniform(0.4, 1.6) for _ in uppers]
    kinds = list(KINDS)
    kind_weights = [KINDS[k][0] for k in kinds]
    committees: list[int] = []
    per_upper: Counter[int] = Counter()
    for _ in range(n_grassroots):
        upper = rng.choices(uppers, weights)[0]
        kind = rng.choices(kinds, kind_weights)[0]
        committee = rng.random() < KINDS[kind][1]
        per_upper[upper] += 1
        code = f"{nodes[upper].code}.G{per_upper[upper]:04d}"
        idx = add(
            upper,
            code,
            _grassroots_name(rng, kind, committee),
            "grassroots_committee" if committee else "grassroots_cell",
            kind,
            _day_after(rng, nodes[upper].established_on, dt.date(2015, 12, 31)),
            _tags(rng, kind),
        )
        if committee:
            committees.append(idx)

    # Cells: only under grassroots committees (communes and wards get more), a few via sub-committees.
    cell_parents = committees or [big]
    parent_cum = list(
        itertools.accumulate(3.0 if nodes[c].kind in ("commune", "ward") else 1.0 for c in cell_parents)
    )
    per_parent: Counter[int] = Counter()
    subs_of: dict[int, list[int]] = {}
    for _ in range(n_cells):
        parent = rng.choices(cell_parents, cum_weights=parent_cum)[0]
        per_parent[parent] += 1
        # Every 25th cell of a committee opens a sub-committee (large committees get a middle level).
        if per_parent[parent] % 25 == 0:
            sub = add(
                parent,
                f"{nodes[parent].code}.S{len(subs_of.get(parent, [])) + 1:02d}",
                f"Đảng bộ bộ phận {_place(rng)}",
                "sub_committee",
                nodes[parent].kind,
                _day_after(rng, nodes[parent].established_on, dt.date(2018, 12, 31)),
            )
            subs_of.setdefault(parent, []).append(sub)
            continue
        target = rng.choice(subs_of[parent]) if parent in subs_of and rng.random() < 0.5 else parent
        n = per_parent[parent]
        add(
            target,
            f"{nodes[parent].code}.C{n:03d}",
            _cell_name(rng, nodes[parent].kind, n),
            "cell",
            nodes[parent].kind,
            _day_after(rng, nodes[target].established_on),
        )
    return Tree(nodes=nodes, big=big, move_parents=(uppers[0], uppers[1]), seed=seed, scale=scale)


def summary(tree: Tree) -> dict[str, object]:
    levels = Counter(n.level for n in tree.nodes)
    kinds = Counter(n.kind for n in tree.nodes if n.level in ("grassroots_committee", "grassroots_cell"))
    return {
        "nodes": len(tree.nodes),
        "levels": dict(levels),
        "grassroots_kinds": dict(kinds.most_common()),
        "big": tree.nodes[tree.big].code,
        "big_subtree": tree.subtree_size(tree.big),
        "dates": [
            min(n.established_on for n in tree.nodes).isoformat(),
            max(n.established_on for n in tree.nodes).isoformat(),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = national (~360,000 organizations)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--big-subtree", type=int, default=10_000, help="nodes in the big committee's subtree"
    )
    parser.add_argument("--out", help="write the nodes as JSON lines here")
    args = parser.parse_args()
    tree = generate(scale=args.scale, seed=args.seed, big_subtree=args.big_subtree)
    print(json.dumps(summary(tree), ensure_ascii=False, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            for node in tree.nodes:
                out.write(json.dumps(asdict(node), ensure_ascii=False, default=str) + "\n")
        print(f"wrote {len(tree.nodes)} nodes to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
