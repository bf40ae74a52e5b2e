"""Every query of members. Nothing here commits; the unit of work does.

"The members of X on D" is the states valid on D whose home organization's version valid on D lies in X's
path range (see ``organizations.repository.in_subtree``); ``ix_member_states_org_valid`` serves the join.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal_column, or_, select, union_all, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members import counts, search
from services.orgs.members.models import (
    Member,
    MemberChange,
    MemberNameStart,
    MemberRating,
    MemberState,
    MemberTemporaryActivity,
    SensitiveRead,
)
from services.orgs.members.search import NameQuery
from services.orgs.organizations.models import OrganizationVersion
from shared.tree import in_subtree

M = Member.__table__
S = MemberState.__table__
T = MemberTemporaryActivity.__table__
C = MemberChange.__table__
R = MemberRating.__table__
A = SensitiveRead.__table__
W = MemberNameStart.__table__
V = OrganizationVersion.__table__

ACTIVE_STATUSES = ("probationary", "official", "exempt")

# Lists never select the sensitive columns: what is not read cannot leak.
LIST_COLUMNS = (
    M.c.id,
    M.c.member_no,
    M.c.full_name,
    M.c.sort_key,
    M.c.birth_date,
    M.c.gender,
    M.c.admitted_on,
    M.c.version,
    S.c.valid_from,
    S.c.valid_to,
    S.c.status,
    S.c.left_reason,
    S.c.org_node,
    S.c.residence_unit_id,
    S.c.recognized_on,
    S.c.card_no,
)
ROW_COLUMNS = (*LIST_COLUMNS, M.c.decision_no, M.c.national_id, M.c.ethnicity, M.c.religion)


def state_valid_on(day: dt.date, table: Any = S) -> Any:
    return and_(table.c.valid_from <= day, or_(table.c.valid_to.is_(None), table.c.valid_to > day))


def temporary_on(day: dt.date, table: Any = T) -> Any:
    return and_(table.c.starts_on <= day, table.c.until > day)


# ----------------------------------------------------------------------------------- prebuilt statements
# The statements of the write paths (and the reads they make) are built once, here, with bind parameters:
# building a select costs more CPU than running it on SQLite, and the compiled-SQL cache only helps once a
# statement exists. Bind names of DML avoid column names (``p_``): an UPDATE would otherwise take a
# parameter named like a column as a SET value.

_STATE_FROM_DAY = or_(S.c.valid_to.is_(None), S.c.valid_to > bindparam("day"))
_ACTIVE_IN_NODE_FROM_DAY = and_(
    S.c.org_node == bindparam("node"), S.c.status.in_(ACTIVE_STATUSES), _STATE_FROM_DAY
)

IDENTITY_OF_ID = select(M).where(M.c.id == bindparam("member_id"))
ROW_OF_ID_AT = (
    select(*ROW_COLUMNS)
    .join(S, S.c.member_id == M.c.id)
    .where(M.c.id == bindparam("member_id"), S.c.valid_from <= bindparam("day"), _STATE_FROM_DAY)
)
# The current home organization's current path, correlated to the member (the scope check).
_CUR_STATE = S.alias("cur_state")
_CUR_HOME = V.alias("cur_home")
_HOME_PATH_NOW = (
    select(_CUR_HOME.c.path)
    .select_from(_CUR_STATE)
    .join(_CUR_HOME, and_(_CUR_HOME.c.node == _CUR_STATE.c.org_node, _CUR_HOME.c.valid_to.is_(None)))
    .where(_CUR_STATE.c.member_id == M.c.id, _CUR_STATE.c.valid_to.is_(None))
    .scalar_subquery()
    .label("home_path_now")
)
# The member on the day with its home's current path: the hot path of reads, in one query.
ROW_OF_ID_AT_WITH_HOME_PATH = (
    select(*ROW_COLUMNS, _HOME_PATH_NOW)
    .join(S, S.c.member_id == M.c.id)
    .where(M.c.id == bindparam("member_id"), S.c.valid_from <= bindparam("day"), _STATE_FROM_DAY)
)
# The identity, the current state (its columns as ``state_<name>``) and the current home path: the
# visibility check of a change, in one query.
_HOME_NOW = V.alias("home_now")
MEMBER_NOW = (
    select(M, *(c.label(f"state_{c.name}") for c in S.c), _HOME_NOW.c.path.label("home_path_now"))
    .join(S, and_(S.c.member_id == M.c.id, S.c.valid_to.is_(None)))
    .outerjoin(_HOME_NOW, and_(_HOME_NOW.c.node == S.c.org_node, _HOME_NOW.c.valid_to.is_(None)))
    .where(M.c.id == bindparam("member_id"))
)
CURRENT_STATE_OF_ID = select(S).where(S.c.member_id == bindparam("member_id"), S.c.valid_to.is_(None))
ID_OF_MEMBER_NO = select(M.c.id).where(M.c.member_no == bindparam("member_no"))
TEMPORARY_ON = (
    select(T)
    .where(
        T.c.member_id.in_(bindparam("member_ids", expanding=True)),
        T.c.starts_on <= bindparam("day"),
        T.c.until > bindparam("day"),
    )
    .order_by(T.c.starts_on)
)
OVERLAPPING_TEMPORARY = select(T).where(
    T.c.member_id == bindparam("member_id"),
    T.c.starts_on < bindparam("until"),
    T.c.until > bindparam("starts_on"),
)
ACTIVE_STATES_FROM = (
    select(S, M.c.version)
    .join(M, M.c.id == S.c.member_id)
    .where(_ACTIVE_IN_NODE_FROM_DAY)
    .order_by(M.c.sort_key, M.c.id)
)
ACTIVE_COUNT_FROM = select(func.count()).where(_ACTIVE_IN_NODE_FROM_DAY)
LATEST_RATING = (
    select(R)
    .where(R.c.member_id == bindparam("member_id"), R.c.year == bindparam("year"))
    .order_by(R.c.id.desc())
    .limit(1)
)
INSERT_MEMBER = insert(M)
INSERT_NAME_STARTS = insert(W)
INSERT_STATE = insert(S)
INSERT_TEMPORARY = insert(T)
INSERT_CHANGE = insert(C)
INSERT_RATING = insert(R)
INSERT_SENSITIVE_READ = insert(A)
CLOSE_STATE = update(S).where(S.c.id == bindparam("p_id")).values(valid_to=bindparam("p_valid_to"))
BUMP_VERSION = (
    update(M).where(M.c.id == bindparam("p_member_id")).values(version=M.c.version + 1).returning(M.c.version)
)


# ---------------------------------------------------------------------------------------------- lookups


async def identity(session: AsyncSession, member_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(IDENTITY_OF_ID, {"member_id": member_id})).mappings().first()


async def row_at(session: AsyncSession, member_id: uuid.UUID, day: dt.date) -> RowMapping | None:
    return (await session.execute(ROW_OF_ID_AT, {"member_id": member_id, "day": day})).mappings().first()


async def row_at_with_home_path(
    session: AsyncSession, member_id: uuid.UUID, day: dt.date
) -> RowMapping | None:
    """``row_at`` plus ``home_path_now``: the current path of the current home organization."""
    params = {"member_id": member_id, "day": day}
    return (await session.execute(ROW_OF_ID_AT_WITH_HOME_PATH, params)).mappings().first()


async def member_now(
    session: AsyncSession, member_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any], str | None] | None:
    """The identity, the current state and the current home path; None without a current state."""
    row = (await session.execute(MEMBER_NOW, {"member_id": member_id})).mappings().first()
    if row is None:
        return None
    ident = {name: row[name] for name in M.c.keys()}
    state = {name: row[f"state_{name}"] for name in S.c.keys()}
    return ident, state, row["home_path_now"]


async def current_state(session: AsyncSession, member_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(CURRENT_STATE_OF_ID, {"member_id": member_id})).mappings().first()


async def member_no_taken(session: AsyncSession, member_no: str) -> bool:
    return (await session.execute(ID_OF_MEMBER_NO, {"member_no": member_no})).first() is not None


async def temporary_activities(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], day: dt.date
) -> dict[uuid.UUID, RowMapping]:
    """The temporary activity of each member on the day (the latest started, should two overlap)."""
    found: dict[uuid.UUID, RowMapping] = {}
    ids = list(member_ids)
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        params = {"member_ids": ids[start : start + 900], "day": day}
        for row in (await session.execute(TEMPORARY_ON, params)).mappings():
            found[row["member_id"]] = row
    return found


async def overlapping_temporary(
    session: AsyncSession, member_id: uuid.UUID, starts_on: dt.date, until: dt.date
) -> RowMapping | None:
    params = {"member_id": member_id, "starts_on": starts_on, "until": until}
    return (await session.execute(OVERLAPPING_TEMPORARY, params)).mappings().first()


async def states_from(session: AsyncSession, node: int, day: dt.date) -> list[RowMapping]:
    """Active states in the organization on the day or later (those a dissolution or merge would strand)."""
    return list((await session.execute(ACTIVE_STATES_FROM, {"node": node, "day": day})).mappings().all())


async def count_from(session: AsyncSession, node: int, day: dt.date) -> int:
    return int((await session.execute(ACTIVE_COUNT_FROM, {"node": node, "day": day})).scalar_one())


async def latest_rating(session: AsyncSession, member_id: uuid.UUID, year: int) -> RowMapping | None:
    return (await session.execute(LATEST_RATING, {"member_id": member_id, "year": year})).mappings().first()


# ------------------------------------------------------------------------------------------------ reads


# A search reads the members matching its word starts by index ranges (then sorts them) when there are at
# most this many index entries; beyond, it walks the sort order and filters (a page needs ~51 / share of
# matching members rows: a few hundred for ``nguyen``). Tests lower it to exercise both ways.
SEARCH_CANDIDATES = 5_000

# The walk of the sort order: ``ix_members_sort_key`` carries ``name_search`` and ``member_no`` (PostgreSQL),
# so reading it through an alias that selects nothing else is an index-only scan that filters before any
# table row is read; the listed columns come from ``members`` joined by id for the rows kept.
_WALK = M.alias("walk")


def _prefix(column: Any, lo: str, hi: str | None) -> Any:
    """``column`` begins with ``lo`` (``hi``: ``search.prefix_upper(lo)``): a B-tree range."""
    return column >= lo if hi is None else and_(column >= lo, column < hi)


def _word_start_ranges(q: NameQuery, *, count: bool, ending_before_last_word: bool = False) -> list[Any]:
    """One select per key whose range holds the members matching ``q`` from a word before their last (and by
    member number; ``search``): member ids, or (``count``) a constant per index entry, for an index-only
    count. ``ending_before_last_word``: only the entries where the match also ends before the last word (a
    space follows it), filtered on the key itself, so still index-only."""

    def one(table: Any, id_column: Any, key: Any) -> Any:
        stmt = select(literal_column("1") if count else id_column).select_from(table)
        stmt = stmt.where(_prefix(key, q.text, q.upper))
        return stmt.where(key.like(q.then_a_space, escape="\\")) if ending_before_last_word else stmt

    number = select(literal_column("1") if count else M.c.id).where(
        _prefix(M.c.member_no, q.number, q.number_upper)
    )
    return [
        one(M, M.c.id, M.c.name_search),
        one(M, M.c.id, M.c.name_rest),
        one(W, W.c.member_id, W.c.name_start),
        number,
    ]


def _matches(q: NameQuery, table: Any = M) -> Any:
    """The definition of a match (``search.matches``), as a filter."""
    return or_(
        table.c.name_search.like(q.at_name_start, escape="\\"),
        table.c.name_search.like(q.after_a_space, escape="\\"),
        table.c.member_no.like(q.number_prefix, escape="\\"),
    )


def _matches_before_last_word(q: NameQuery, table: Any) -> Any:
    """The matches that end before the last word of the name (a space follows), and by member number."""
    return or_(
        table.c.name_search.like(q.then_a_space, escape="\\"),
        table.c.name_search.like(q.after_a_space_then_a_space, escape="\\"),
        table.c.member_no.like(q.number_prefix, escape="\\"),
    )


async def _few(session: AsyncSession, ranges: list[Any]) -> bool:
    """Whether ``ranges`` (``_word_start_ranges(count=True)``) hold at most ``SEARCH_CANDIDATES`` index
    entries (reads at most one more than that, index-only)."""
    cap = SEARCH_CANDIDATES
    entries = union_all(*ranges).limit(cap + 1).subquery()
    return int((await session.execute(select(func.count()).select_from(entries))).scalar_one()) <= cap


async def list_rows(
    session: AsyncSession,
    *,
    day: dt.date,
    org_node: int | None,
    within_path: str | None,
    scope_path: str | None,
    statuses: Sequence[str] | None,
    q: NameQuery | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
    member_id: uuid.UUID | None = None,
) -> list[RowMapping]:
    """The members listed on the day, ordered by ``sort_key, id``, at most ``limit + 1`` rows after ``after``.

    With a search ``q`` (``members.search``), the matches before the last word of the name (and by member
    number) are read by their index ranges when they are few (``SEARCH_CANDIDATES``), else found by walking
    the sort order; a one-word query's matches at the last word (the given name) are the range of the sort
    key that begins with it, read in order apart and merged.
    """
    conditions: list[Any] = [state_valid_on(day)]
    if member_id is not None:
        conditions.append(M.c.id == member_id)
    if org_node is not None:
        # At home there, or temporarily active there on the day.
        conditions.append(
            or_(
                S.c.org_node == org_node,
                select(T.c.id)
                .where(T.c.member_id == M.c.id, T.c.host_org_node == org_node, temporary_on(day))
                .exists(),
            )
        )
    if within_path is not None:
        home = V.alias("home")
        host = V.alias("host")
        conditions.append(
            or_(
                select(home.c.node)
                .where(
                    home.c.node == S.c.org_node,
                    home.c.valid_from <= day,
                    or_(home.c.valid_to.is_(None), home.c.valid_to > day),
                    in_subtree(home.c.path, within_path),
                )
                .exists(),
                select(T.c.id)
                .join(host, host.c.node == T.c.host_org_node)
                .where(
                    T.c.member_id == M.c.id,
                    temporary_on(day),
                    host.c.valid_from <= day,
                    or_(host.c.valid_to.is_(None), host.c.valid_to > day),
                    in_subtree(host.c.path, within_path),
                )
                .exists(),
            )
        )
    if scope_path is not None:
        # Scope follows today: the member's current home organization as it stands now.
        cur_state = S.alias("cur_state")
        cur_org = V.alias("cur_org")
        conditions.append(
            select(cur_state.c.id)
            .join(cur_org, cur_org.c.node == cur_state.c.org_node)
            .where(
                cur_state.c.member_id == M.c.id,
                cur_state.c.valid_to.is_(None),
                cur_org.c.valid_to.is_(None),
                in_subtree(cur_org.c.path, scope_path),
            )
            .exists()
        )
    if statuses is not None:
        conditions.append(S.c.status.in_(statuses))

    def ordered(driver: Any, *more: Any) -> Any:
        """The page, with ``driver`` (``members`` or the walk alias) giving the order and the cursor."""
        stmt = select(*LIST_COLUMNS).select_from(driver)
        if driver is not M:
            stmt = stmt.join(M, M.c.id == driver.c.id)
        stmt = stmt.join(S, S.c.member_id == M.c.id).where(*conditions, *more)
        if after is not None:
            key, last_id = after
            # (the first condition lets the walk of ix_members_sort_key start at the cursor)
            stmt = stmt.where(
                driver.c.sort_key >= key,
                or_(driver.c.sort_key > key, and_(driver.c.sort_key == key, driver.c.id > last_id)),
            )
        return stmt.order_by(driver.c.sort_key, driver.c.id).limit(limit + 1)

    if q is None:
        return list((await session.execute(ordered(M))).mappings().all())
    # Matches that end in the last word of the name: that word begins with the query's last word, so their
    # sort keys lie in that range, read in order (a one-word query's matches there all begin there).
    in_last_word = ordered(
        _WALK, _prefix(_WALK.c.sort_key, q.last_word, q.last_word_upper), _matches(q, _WALK)
    )
    if await _few(session, _word_start_ranges(q, count=True)):
        # Few: the members in the ranges, sorted (they hold every match of a query of several words).
        found = ordered(M, M.c.id.in_(union_all(*_word_start_ranges(q, count=False))), _matches(q))
        if not q.one_word:
            return list((await session.execute(found)).mappings().all())
        parts: list[Any] = [in_last_word, found]
    else:
        # Many. Those ending in the last word first: a full page of them bounds the rest's sort keys.
        first = list((await session.execute(in_last_word)).mappings().all())
        bound = [_WALK.c.sort_key <= first[-1]["sort_key"]] if len(first) > limit else []
        if await _few(session, _word_start_ranges(q, count=True, ending_before_last_word=True)):
            # Few end before the last word (``nguyen thi yen``: ~6,000 matches, all "… Yên/Yến", which sort
            # together near the end): those few from the ranges.
            ids = union_all(*_word_start_ranges(q, count=False, ending_before_last_word=True))
            rest = ordered(M, M.c.id.in_(ids), _matches_before_last_word(q, M))
        else:
            # Many end before the last word too (``nguyen``, ``thi``): found all along the order, by a walk
            # (up to the bound: ``nguyen van an`` stops among the "… An").
            rest = ordered(_WALK, _matches_before_last_word(q, _WALK), *bound)
        parts = [first, rest]
    merged: dict[uuid.UUID, RowMapping] = {}
    for part in parts:
        rows = part if isinstance(part, list) else (await session.execute(part)).mappings().all()
        for row in rows:
            merged[row["id"]] = row
    return sorted(merged.values(), key=lambda row: (row["sort_key"], row["id"]))[: limit + 1]


# ----------------------------------------------------------------------------------------------- writes


async def insert_member(session: AsyncSession, **values: Any) -> None:
    """A new member; its search keys (``name_rest``, ``member_name_starts``) follow from ``name_search``."""
    name = values["name_search"]
    await session.execute(
        INSERT_MEMBER,
        {"version": 1, "recorded_at": dt.datetime.now(dt.UTC), "name_rest": search.name_rest(name), **values},
    )
    starts = search.name_starts(name)
    if starts:
        await session.execute(
            INSERT_NAME_STARTS, [{"name_start": s, "member_id": values["id"]} for s in starts]
        )


async def insert_state(session: AsyncSession, *, event: str | None = None, **values: Any) -> None:
    """A member's first state; counted in ``member_counts`` (with ``event`` on its organization and day)."""
    await session.execute(INSERT_STATE, values)
    changes = counts.new_changes()
    counts.add_state(changes, values["org_node"], values["status"], values["valid_from"], +1)
    if event is not None:
        counts.add_event(changes, values["org_node"], values["valid_from"], event)
    await counts.apply(session, changes)


async def new_state(
    session: AsyncSession,
    member_id: uuid.UUID,
    day: dt.date,
    *,
    current: Mapping[str, Any] | None = None,
    event: str | None = None,
    tally: counts.Changes | None = None,
    **changes: Any,
) -> None:
    """Close the member's current state on ``day`` and open a new one with ``changes`` applied.

    ``current``: the current state as the caller read it in this transaction (saves reading it again).
    The change is counted in ``member_counts`` (``event``: that day's event in the new state's
    organization) — at once, or, given a ``tally``, added to it for the caller to apply once (a merge).
    """
    if current is None:
        current = (await session.execute(CURRENT_STATE_OF_ID, {"member_id": member_id})).mappings().one()
    await session.execute(CLOSE_STATE, {"p_id": current["id"], "p_valid_to": day})
    values = {k: v for k, v in current.items() if k != "id"}
    values.update(changes, valid_from=day, valid_to=None)
    await session.execute(INSERT_STATE, values)
    pending = tally if tally is not None else counts.new_changes()
    counts.add_state(pending, current["org_node"], current["status"], day, -1)
    counts.add_state(pending, values["org_node"], values["status"], day, +1)
    if event is not None:
        counts.add_event(pending, values["org_node"], day, event)
    if tally is None:
        await counts.apply(session, pending)


async def insert_temporary(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_TEMPORARY, values)


async def bump_version(session: AsyncSession, member_id: uuid.UUID) -> int:
    return int((await session.execute(BUMP_VERSION, {"p_member_id": member_id})).scalar_one())


async def record_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_CHANGE, {"recorded_at": dt.datetime.now(dt.UTC), **values})


async def insert_rating(session: AsyncSession, **values: Any) -> dt.datetime:
    recorded_at = dt.datetime.now(dt.UTC)
    await session.execute(INSERT_RATING, {"recorded_at": recorded_at, **values})
    return recorded_at


async def record_sensitive_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_SENSITIVE_READ, {"at": dt.datetime.now(dt.UTC), **values})
