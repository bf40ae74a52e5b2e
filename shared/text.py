"""Vietnamese text: search without diacritics and the Vietnamese name order.

``normalize("Nguyễn Văn A") == "nguyen van a"``: decompose, drop combining marks, map đ/Đ to d (đ is a
letter of its own, not a d with a mark, so Unicode decomposition leaves it), lower-case, collapse spaces.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().lower()


def like_pattern(query: str) -> str:
    """A LIKE pattern matching the normalized query anywhere (with LIKE's wildcards escaped by ``\\``)."""
    q = normalize(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{q}%"


def vietnamese_sort_key(full_name: str) -> str:
    """Order people as Vietnamese lists do: by given name (the last word), then by the whole name.

    Built from the normalized text with a separator below every letter, so a plain byte-wise ORDER BY on
    the stored key sorts correctly on SQLite and PostgreSQL (with a "C" collation) alike. Letters with a
    diacritic sort with their base letter; ties keep the accented form out of the way via the raw suffix.
    """
    norm = normalize(full_name)
    parts = norm.split(" ")
    given = parts[-1] if parts else ""
    return f"{given}\x01{norm}\x01{full_name.casefold()}"
