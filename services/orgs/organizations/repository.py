"""Every query of the organization tree. Nothing here commits; the unit of work does.

Reads use Core selects returning mappings (no ORM identity map): a committee's subtree is thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.organizations.models import Organization, OrganizationChange, OrganizationVersion
from shared.tree import b36 as _b36

# Re-exported: the other orgs domains build their subtree queries with these.
from shared.tree import child_path as child_path
from shared.tree import in_subtree as in_subtree
from shared.tree import path_nodes as path_nodes
from shared.tree import subtree_bounds as subtree_bounds

V = OrganizationVersion.__table__
O = Organization.__table__  # noqa: E741  (V, O, C: the three tables, short in queries)
C = OrganizationChange.__table__

ROW_COLUMNS = (
    V.c.node,
    V.c.valid_from,
    V.c.valid_to,
    V.c.parent_node,
    V.c.path,
    V.c.depth,
    V.c.name,
    V.c.level,
    V.c.kind,
    V.c.tags,
    V.c.status,
    V.c.merged_into_node,
    O.c.id,
    O.c.code,
    O.c.established_on,
    O.c.decision_no,
    O.c.decided_on,
    O.c.version,
)


# ------------------------------------------------------------------------------------------------ paths


def valid_on(day: dt.date) -> Any:
    return and_(V.c.valid_from <= day, or_(V.c.valid_to.is_(None), V.c.valid_to > day))


def tags_text(tags: Iterable[str]) -> str:
    ordered = sorted(set(tags))
    return f"|{'|'.join(ordered)}|" if ordered else ""


def tags_list(text: str) -> list[str]:
    return [t for t in text.split("|") if t]


# ----------------------------------------------------------------------------------- prebuilt statements
# The statements of the write paths (and the reads they make) are built once, here, with bind parameters:
# building a select (aliases, subqueries, column coercion) costs more CPU than running it on SQLite, and
# the compiled-SQL cache only helps once a statement exists. Bind names of DML avoid column names (``p_``):
# an UPDATE would otherwise take a parameter named like a column as a SET value.

_VALID_ON_DAY = and_(
    V.c.valid_from <= bindparam("day"), or_(V.c.valid_to.is_(None), V.c.valid_to > bindparam("day"))
)
_ROWS = select(*ROW_COLUMNS).join(O, O.c.node == V.c.node)
_CURRENT = V.alias("cur")

IDENTITY_OF_ID = select(O).where(O.c.id == bindparam("org_id"))
ROW_OF_NODE_AT = _ROWS.where(V.c.node == bindparam("node"), _VALID_ON_DAY)
# The state on the day plus the current path (for the scope check): the hot path of reads.
ROW_OF_ID_AT = (
    select(
        *ROW_COLUMNS,
        select(_CURRENT.c.path)
        .where(_CURRENT.c.node == V.c.node, _CURRENT.c.valid_to.is_(None))
        .scalar_subquery()
        .label("current_path"),
    )
    .join(O, O.c.node == V.c.node)
    .where(O.c.id == bindparam("org_id"), _VALID_ON_DAY)
)
CURRENT_ROW_OF_NODE = _ROWS.where(V.c.node == bindparam("node"), V.c.valid_to.is_(None))
CURRENT_PATH_OF_ID = (
    select(V.c.path)
    .join(O, O.c.node == V.c.node)
    .where(O.c.id == bindparam("org_id"), V.c.valid_to.is_(None))
)
IDS_OF_NODES = select(O.c.node, O.c.id).where(O.c.node.in_(bindparam("nodes", expanding=True)))
NODE_OF_ID = select(O.c.node).where(O.c.id == bindparam("org_id"))
NODE_OF_CODE = select(O.c.node).where(O.c.code == bindparam("code"))
LATEST_CHANGE_IN_SUBTREE = select(func.max(V.c.valid_from)).where(
    V.c.valid_to.is_(None), V.c.path >= bindparam("lo"), V.c.path < bindparam("hi")
)
ACTIVE_CHILDREN_ON = _ROWS.where(
    V.c.parent_node == bindparam("node"), _VALID_ON_DAY, V.c.status == "active"
).order_by(O.c.code)
SEGMENTS_FROM = (
    select(V.c.valid_from, V.c.valid_to, V.c.path, V.c.depth, V.c.status)
    .where(V.c.node == bindparam("node"), or_(V.c.valid_to.is_(None), V.c.valid_to > bindparam("day")))
    .order_by(V.c.valid_from)
)
# The identity with its current path: the visibility check of a change, in one query.
IDENTITY_WITH_CURRENT_PATH = (
    select(O, V.c.path.label("current_path"))
    .join(V, and_(V.c.node == O.c.node, V.c.valid_to.is_(None)))
    .where(O.c.id == bindparam("org_id"))
)
# Its states from the day on, oldest first: the state on the day (the first, if it began by then), the
# current one (open-ended) and those after, for placing something under it, in one query.
STATES_OF_ID_FROM = _ROWS.where(
    O.c.id == bindparam("org_id"), or_(V.c.valid_to.is_(None), V.c.valid_to > bindparam("day"))
).order_by(V.c.valid_from, V.c.id)
INSERT_IDENTITY = insert(O).returning(O.c.node)
INSERT_VERSION = insert(V)
INSERT_CHANGE = insert(C)
BUMP_VERSION = (
    update(O).where(O.c.node == bindparam("p_node")).values(version=O.c.version + 1).returning(O.c.version)
)
CURRENT_VERSION_OF_NODE = select(V).where(V.c.node == bindparam("node"), V.c.valid_to.is_(None))
CLOSE_VERSION = update(V).where(V.c.id == bindparam("p_id")).values(valid_to=bindparam("p_valid_to"))


# ---------------------------------------------------------------------------------------------- lookups


async def identity(session: AsyncSession, org_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(IDENTITY_OF_ID, {"org_id": org_id})).mappings().first()


async def identity_with_current_path(session: AsyncSession, org_id: uuid.UUID) -> RowMapping | None:
    """The identity (``organizations`` columns) and ``current_path``; None if unknown."""
    return (await session.execute(IDENTITY_WITH_CURRENT_PATH, {"org_id": org_id})).mappings().first()


async def states_of_id_from(session: AsyncSession, org_id: uuid.UUID, day: dt.date) -> list[RowMapping]:
    """The organization's states (``ROW_COLUMNS``) in force on the day or later, oldest first."""
    return list((await session.execute(STATES_OF_ID_FROM, {"org_id": org_id, "day": day})).mappings().all())


async def row_at(session: AsyncSession, node: int, day: dt.date) -> RowMapping | None:
    return (await session.execute(ROW_OF_NODE_AT, {"node": node, "day": day})).mappings().first()


async def row_of_id_at(session: AsyncSession, org_id: uuid.UUID, day: dt.date) -> RowMapping | None:
    """The organization's state on the day, with its current path (for the scope check), in one query."""
    return (await session.execute(ROW_OF_ID_AT, {"org_id": org_id, "day": day})).mappings().first()


async def current_row(session: AsyncSession, node: int) -> RowMapping | None:
    return (await session.execute(CURRENT_ROW_OF_NODE, {"node": node})).mappings().first()


async def current_path(session: AsyncSession, org_id: uuid.UUID) -> str | None:
    return (await session.execute(CURRENT_PATH_OF_ID, {"org_id": org_id})).scalar_one_or_none()


async def ids_of(session: AsyncSession, nodes: Iterable[int]) -> dict[int, uuid.UUID]:
    wanted = sorted(set(nodes))
    found: dict[int, uuid.UUID] = {}
    for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
        rows = await session.execute(IDS_OF_NODES, {"nodes": wanted[start : start + 900]})
        found.update({n: i for n, i in rows.all()})
    return found


async def node_of(session: AsyncSession, org_id: uuid.UUID) -> int | None:
    return (await session.execute(NODE_OF_ID, {"org_id": org_id})).scalar_one_or_none()


async def code_taken(session: AsyncSession, code: str) -> bool:
    return (await session.execute(NODE_OF_CODE, {"code": code})).first() is not None


# ------------------------------------------------------------------------------------------------ reads


async def subtree(
    session: AsyncSession,
    path: str,
    day: dt.date,
    *,
    max_depth: int | None = None,
    statuses: Sequence[str] | None = ("active",),
) -> list[RowMapping]:
    stmt = select(*ROW_COLUMNS).join(O, O.c.node == V.c.node).where(in_subtree(V.c.path, path), valid_on(day))
    if max_depth is not None:
        stmt = stmt.where(V.c.depth <= max_depth)
    if statuses is not None:
        stmt = stmt.where(V.c.status.in_(statuses))
    stmt = stmt.order_by(V.c.depth, O.c.code)
    return list((await session.execute(stmt)).mappings().all())


# The tree endpoint's rows (``tree_rows``): only the columns its answer shows, ``TREE_FIELDS`` in that order,
# in no particular order (the service orders siblings by code: a sort in SQL cost PostgreSQL 25-55 ms for a
# 10,000-node subtree, and held every row back until it was done, where unsorted rows reach the driver as
# they are found; Python sorts them in a few ms). Fetched through the driver (asyncpg, aiosqlite), not
# SQLAlchemy: a committee's subtree is thousands of rows, and result processing (rows, UUID and date objects
# that the answer turns back into text) cost more than the query. Dates come as ``YYYY-MM-DD`` text:
# PostgreSQL formats them (``to_char``) while Python reads earlier rows, where ``date`` objects cost ~1 µs
# each to format; SQLite stores them so. The id comes as its API text from PostgreSQL (``uuid::text``) and
# as SQLite stores it (32 hex digits, which ``id_text`` hyphenates: cheaper in Python than in SQL).
TREE_FIELDS = (
    "node",
    "parent_node",
    "valid_from",
    "merged_into_node",
    "name",
    "level",
    "kind",
    "tags",
    "id",
    "code",
    "established_on",
    "decision_no",
    "decided_on",
    "version",
)
_TREE_WHERE = (
    "v.path >= {lo} AND v.path < {hi} AND v.valid_from <= {day} "
    "AND (v.valid_to IS NULL OR v.valid_to > {day}) AND v.depth <= {depth} AND v.status = 'active'"
)
_TREE_SQLITE = (
    "SELECT v.node, v.parent_node, v.valid_from, v.merged_into_node, v.name, v.level, v.kind, v.tags, "
    "o.id, o.code, o.established_on, o.decision_no, o.decided_on, o.version "
    f"FROM {V.name} v JOIN {O.name} o ON o.node = v.node "
    "WHERE " + _TREE_WHERE.format(lo="?1", hi="?2", day="?3", depth="?4")
)
# PostgreSQL: the identity fetched per row through the primary key (LATERAL … LIMIT 1, which the planner
# cannot turn back into a join). As a plain join, for a 10,000-node subtree it hash-joins a sequential scan
# of every organization of the country (370,000): 120–160 ms against ~60 ms (bench_tree).
_TREE_POSTGRESQL = (
    "SELECT v.node, v.parent_node, to_char(v.valid_from, 'YYYY-MM-DD'), v.merged_into_node, v.name, v.level, "
    "v.kind, v.tags, i.id::text, i.code, to_char(i.established_on, 'YYYY-MM-DD'), i.decision_no, "
    "to_char(i.decided_on, 'YYYY-MM-DD'), i.version "
    f"FROM {V.name} v CROSS JOIN LATERAL (SELECT o.id, o.code, o.established_on, o.decision_no, "
    f"o.decided_on, o.version FROM {O.name} o WHERE o.node = v.node LIMIT 1) i "
    "WHERE " + _TREE_WHERE.format(lo="$1", hi="$2", day="$3", depth="$4")
)


def raw_text(value: Any) -> str:
    """A raw id or date as its API text: SQLite gives a date as ``YYYY-MM-DD`` and a UUID as 32 hex
    digits; asyncpg gives ``date`` and its own UUID (whose ``str`` is the API form)."""
    if type(value) is str:
        return (
            f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
            if len(value) == 32
            else value
        )
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def id_text(value: str) -> str:
    """A ``tree_rows`` id as API text."""
    return (
        value if len(value) != 32 else f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    )


def tree_row(row: RowMapping) -> tuple[Any, ...]:
    """A ``ROW_COLUMNS`` row (the tree's root when it is not active) in the form of ``tree_rows``."""
    return tuple(raw_text(row["id"]) if f == "id" else row[f] for f in TREE_FIELDS)


async def tree_rows(
    session: AsyncSession, path: str, day: dt.date, max_depth: int
) -> Sequence[Sequence[Any]]:
    """The active states on ``day`` of the subtree at ``path``, to ``max_depth``: ``TREE_FIELDS`` rows."""
    lo, hi = subtree_bounds(path)
    conn = await session.connection()  # the session's transaction (begun as for any statement)
    driver = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        return await driver.fetch(_TREE_POSTGRESQL, lo, hi, day, max_depth)  # type: ignore[union-attr]
    params = (lo, hi, day.isoformat(), max_depth)
    fetch_all = getattr(driver, "execute_fetchall", None)  # aiosqlite; not the inline connection of writes
    if fetch_all is not None:
        return await fetch_all(_TREE_SQLITE, params)
    return (await conn.exec_driver_sql(_TREE_SQLITE, params)).all()


async def rows_for_nodes(session: AsyncSession, nodes: Sequence[int], day: dt.date) -> list[RowMapping]:
    stmt = (
        select(*ROW_COLUMNS)
        .join(O, O.c.node == V.c.node)
        .where(V.c.node.in_(list(nodes)), valid_on(day))
        .order_by(V.c.depth)
    )
    return list((await session.execute(stmt)).mappings().all())


async def list_rows(
    session: AsyncSession,
    *,
    day: dt.date,
    within_path: str | None,
    scope_path: str | None,
    level: str | None,
    kind: str | None,
    tag: str | None,
    statuses: Sequence[str] | None,
    q_pattern: str | None,
    after_code: str | None,
    limit: int,
) -> list[RowMapping]:
    stmt = select(*ROW_COLUMNS).join(O, O.c.node == V.c.node).where(valid_on(day))
    if within_path is not None:
        stmt = stmt.where(in_subtree(V.c.path, within_path))
    if scope_path is not None:
        # Scope follows today's tree: the caller's subtree as it stands now.
        current = V.alias("cur")
        stmt = stmt.where(
            select(current.c.node)
            .where(
                current.c.node == V.c.node,
                current.c.valid_to.is_(None),
                in_subtree(current.c.path, scope_path),
            )
            .exists()
        )
    if level:
        stmt = stmt.where(V.c.level == level)
    if kind:
        stmt = stmt.where(V.c.kind == kind)
    if tag:
        stmt = stmt.where(V.c.tags.like(f"%|{tag}|%"))
    if statuses is not None:
        stmt = stmt.where(V.c.status.in_(statuses))
    if q_pattern:
        stmt = stmt.where(
            or_(
                V.c.name_search.like(q_pattern, escape="\\"),
                func.lower(O.c.code).like(q_pattern, escape="\\"),
            )
        )
    if after_code is not None:
        stmt = stmt.where(O.c.code > after_code)
    stmt = stmt.order_by(O.c.code).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


async def latest_change_in_subtree(session: AsyncSession, path: str) -> dt.date | None:
    """The latest ``valid_from`` among the subtree's current states (changes must come in date order)."""
    lo, hi = subtree_bounds(path)
    return (await session.execute(LATEST_CHANGE_IN_SUBTREE, {"lo": lo, "hi": hi})).scalar_one_or_none()


async def active_children(session: AsyncSession, node: int, day: dt.date) -> list[RowMapping]:
    return list((await session.execute(ACTIVE_CHILDREN_ON, {"node": node, "day": day})).mappings().all())


async def segments_from(session: AsyncSession, node: int, day: dt.date) -> list[RowMapping]:
    """The node's states from ``day`` on, oldest first (the timeline a newcomer under it follows)."""
    return list((await session.execute(SEGMENTS_FROM, {"node": node, "day": day})).mappings().all())


async def changes_of(session: AsyncSession, node: int) -> list[RowMapping]:
    stmt = select(C).where(C.c.node == node).order_by(C.c.effective_on, C.c.sequence)
    return list((await session.execute(stmt)).mappings().all())


# ----------------------------------------------------------------------------------------------- writes


async def insert_identity(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    code: str,
    established_on: dt.date,
    decision_no: str | None,
    decided_on: dt.date | None,
) -> int:
    result = await session.execute(
        INSERT_IDENTITY,
        {
            "id": org_id,
            "code": code,
            "version": 1,
            "established_on": established_on,
            "decision_no": decision_no,
            "decided_on": decided_on,
            "recorded_at": dt.datetime.now(dt.UTC),
        },
    )
    return int(result.scalar_one())


async def insert_version(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_VERSION, values)


async def bump_version(session: AsyncSession, node: int) -> int:
    return int((await session.execute(BUMP_VERSION, {"p_node": node})).scalar_one())


async def new_state(session: AsyncSession, node: int, day: dt.date, **changes: Any) -> None:
    """Close the node's current state on ``day`` and open a new one with ``changes`` applied."""
    current = (await session.execute(CURRENT_VERSION_OF_NODE, {"node": node})).mappings().one()
    await session.execute(CLOSE_VERSION, {"p_id": current["id"], "p_valid_to": day})
    values = {k: v for k, v in current.items() if k != "id"}
    values.update(changes, valid_from=day, valid_to=None)
    await session.execute(INSERT_VERSION, values)


async def rehome_subtree(
    session: AsyncSession,
    *,
    node: int,
    old_path: str,
    new_parent: int,
    parent_segments: Sequence[RowMapping],
    day: dt.date,
) -> int:
    """Move the node's subtree under ``new_parent`` from ``day`` on, set-based.

    For each state of the new parent from ``day`` on, the subtree's current states are copied with the path
    prefix rewritten (and the depth shifted); then the old current states are closed on ``day``.
    Returns how many organizations moved.
    """
    old_prefix_len = len(old_path) - len(f"{_b36(node)}/")
    old_depth = old_path.count("/") - 2  # "/1/" is a root at depth 0, as establish() stores it
    watermark = (await session.execute(select(func.coalesce(func.max(V.c.id), 0)))).scalar_one()
    current = and_(V.c.valid_to.is_(None), in_subtree(V.c.path, old_path), V.c.id <= watermark)
    columns = [c for c in V.c if c.name != "id"]
    for seg in parent_segments:
        new_prefix = seg["path"]
        seg_from = max(day, seg["valid_from"])
        delta = (seg["depth"] + 1) - old_depth
        select_values = []
        for col in columns:
            if col.name == "valid_from":
                select_values.append(literal(seg_from, V.c.valid_from.type).label("valid_from"))
            elif col.name == "valid_to":
                select_values.append(literal(seg["valid_to"], V.c.valid_to.type).label("valid_to"))
            elif col.name == "path":
                select_values.append(
                    (literal(new_prefix) + func.substr(V.c.path, old_prefix_len + 1)).label("path")
                )
            elif col.name == "depth":
                select_values.append((V.c.depth + delta).label("depth"))
            elif col.name == "parent_node":
                select_values.append(
                    case((V.c.node == node, literal(new_parent)), else_=V.c.parent_node).label("parent_node")
                )
            else:
                select_values.append(col)
        await session.execute(
            insert(V).from_select([c.name for c in columns], select(*select_values).where(current))
        )
    result = await session.execute(update(V).where(current).values(valid_to=day))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def record_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_CHANGE, {"recorded_at": dt.datetime.now(dt.UTC), **values})
