"""Materialized paths for trees stored in SQL: the subtree of a node is one range scan.

A path is the chain of compact integer nodes from the root, base 36, each followed by "/" (``/1/2s/9x/``).
Every path of a node's subtree (the node included) lies in ``[path, path[:-1] + "0")`` because "/" sorts just
below "0" byte-wise — so the column needs a byte-wise collation ("C" on PostgreSQL; SQLite's default).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_

# A path column: byte-wise ordering on every backend.
PathString = String(400).with_variant(String(400, collation="C"), "postgresql")

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def child_path(parent_path: str | None, node: int) -> str:
    return f"{parent_path or '/'}{b36(node)}/"


def path_nodes(path: str) -> list[int]:
    return [int(seg, 36) for seg in path.strip("/").split("/") if seg]


def path_depth(path: str) -> int:
    """0 for a root (``/1/``)."""
    return path.count("/") - 2


def subtree_bounds(path: str) -> tuple[str, str]:
    """Every path of the subtree (the node included) lies in ``[lo, hi)``."""
    return path, path[:-1] + "0"


def in_subtree(column: Any, path: str) -> Any:
    lo, hi = subtree_bounds(path)
    return and_(column >= lo, column < hi)
