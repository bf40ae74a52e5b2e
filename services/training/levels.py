"""The orders the service compares: political theory levels and education.

Theory levels are ordered ``none < elementary < intermediate < advanced < bachelor`` (domain.md, Cadres and
Training). Where a query compares levels, a small integer rank is stored next to the name (0 = ``none``), so
"above the attained level" is an integer comparison an index can serve.
"""

from __future__ import annotations

from enum import StrEnum

THEORY_LEVELS: tuple[str, ...] = ("none", "elementary", "intermediate", "advanced", "bachelor")
EDUCATION_LEVELS: tuple[str, ...] = ("secondary", "college", "bachelor", "master", "doctor")


class TheoryLevel(StrEnum):
    """A level a programme teaches (``none`` is only ever declared)."""

    elementary = "elementary"
    intermediate = "intermediate"
    advanced = "advanced"
    bachelor = "bachelor"


def theory_rank(level: str | None) -> int:
    """0 for ``none`` (and for no level at all), 4 for ``bachelor``."""
    return THEORY_LEVELS.index(level) if level else 0


def theory_name(rank: int) -> str:
    return THEORY_LEVELS[rank]


def education_rank(education: str | None) -> int:
    """-1 when unknown, so every minimum fails."""
    return EDUCATION_LEVELS.index(education) if education in EDUCATION_LEVELS else -1
