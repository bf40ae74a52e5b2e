"""Vietnamese personal names and birth dates from a seeded generator (the demo is the same each time)."""

from __future__ import annotations

import datetime as dt
import random

FAMILY = (
    ("Nguyễn", 30), ("Trần", 10), ("Lê", 10), ("Phạm", 6), ("Hoàng", 5), ("Phan", 5), ("Võ", 4),
    ("Đặng", 3), ("Bùi", 3), ("Đỗ", 3), ("Hồ", 4), ("Ngô", 2), ("Dương", 2), ("Lý", 1), ("Thái", 2),
    ("Cao", 2), ("Đinh", 2), ("Tăng", 1), ("Chu", 1), ("Lương", 2),
)  # fmt: skip
MIDDLE = {
    "male": ("Văn", "Đình", "Hữu", "Quang", "Minh", "Xuân", "Đức", "Công", "Bá", "Thanh"),
    "female": ("Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Kim", "Hồng", "Minh", "Bích"),
}
GIVEN = {
    "male": ("Hùng", "Dũng", "Cường", "Tuấn", "Hải", "Long", "Nam", "Sơn", "Thắng", "Phong", "Quân", "Hiếu",
             "Trung", "Bình", "Khánh", "Đạt", "Vinh", "Lâm", "Tâm", "Thành", "Hoàng", "Kiên", "Tùng", "Việt"),
    "female": ("Lan", "Hoa", "Hương", "Mai", "Ngọc", "Thảo", "Hà", "Linh", "Trang", "Huyền", "Nga", "Yến",
               "Vân", "Loan", "Dung", "Oanh", "Hằng", "Thủy", "Nhung", "Phương", "Quyên", "Hạnh",
               "Tâm", "An"),
}  # fmt: skip


class People:
    """Names, genders and birth dates; one seeded generator for the whole demo."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._families = [name for name, weight in FAMILY for _ in range(weight)]

    def gender(self, female_share: float = 0.4) -> str:
        return "female" if self.rng.random() < female_share else "male"

    def name(self, gender: str) -> str:
        family, middle = self.rng.choice(self._families), self.rng.choice(MIDDLE[gender])
        return f"{family} {middle} {self.rng.choice(GIVEN[gender])}"

    def birth_date(self, on: dt.date, youngest: int, oldest: int) -> dt.date:
        """A birth date making the person ``youngest`` to ``oldest`` full years old on ``on``."""
        on = on.replace(day=28) if (on.month, on.day) == (2, 29) else on
        latest = on.replace(year=on.year - youngest) - dt.timedelta(days=1)
        earliest = on.replace(year=on.year - oldest - 1) + dt.timedelta(days=2)
        return earliest + dt.timedelta(days=self.rng.randrange((latest - earliest).days))

    def day_between(self, first: dt.date, last: dt.date) -> dt.date:
        return first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))

    def national_id(self, birth: dt.date, gender: str) -> str:
        """A 12-digit citizen identity number shaped like Nghệ An's (province 040, century-gender, year)."""
        century = (0 if birth.year < 2000 else 2) + (1 if gender == "female" else 0)
        return f"040{century}{birth.year % 100:02d}{self.rng.randrange(10**6):06d}"
