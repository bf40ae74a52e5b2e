"""Every query of members. Nothing here commits; the unit of work does.

"The members of X on D" is the states valid on D whose home organization's version valid on D lies in X's
path range (see ``organizations.repository.in_subtree``); ``ix_member_states_org_valid`` serves the join.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members.models import (
    Member,
    MemberChange,
    MemberRating,
    MemberState,
    MemberTemporaryActivity,
    SensitiveRead,
)
from services.orgs.organizations.models import OrganizationVersion
from shared.tree import in_subtree

M = Member.__table__
S = MemberState.__table__
T = MemberTemporaryActivity.__table__
C = MemberChange.__table__
R = MemberRating.__table__
A = SensitiveRead.__table__
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


# ---------------------------------------------------------------------------------------------- lookups


async def identity(session: AsyncSession, member_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(M).where(M.c.id == member_id))).mappings().first()


async def row_at(session: AsyncSession, member_id: uuid.UUID, day: dt.date) -> RowMapping | None:
    stmt = (
        select(*ROW_COLUMNS).join(S, S.c.member_id == M.c.id).where(M.c.id == member_id, state_valid_on(day))
    )
    return (await session.execute(stmt)).mappings().first()


async def current_state(session: AsyncSession, member_id: uuid.UUID) -> RowMapping | None:
    stmt = select(S).where(S.c.member_id == member_id, S.c.valid_to.is_(None))
    return (await session.execute(stmt)).mappings().first()


async def member_no_taken(session: AsyncSession, member_no: str) -> bool:
    return (await session.execute(select(M.c.id).where(M.c.member_no == member_no))).first() is not None


async def temporary_activities(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], day: dt.date
) -> dict[uuid.UUID, RowMapping]:
    """The temporary activity of each member on the day (the latest started, should two overlap)."""
    found: dict[uuid.UUID, RowMapping] = {}
    ids = list(member_ids)
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        stmt = (
            select(T)
            .where(T.c.member_id.in_(ids[start : start + 900]), temporary_on(day))
            .order_by(T.c.starts_on)
        )
        for row in (await session.execute(stmt)).mappings():
            found[row["member_id"]] = row
    return found


async def overlapping_temporary(
    session: AsyncSession, member_id: uuid.UUID, starts_on: dt.date, until: dt.date
) -> RowMapping | None:
    stmt = select(T).where(T.c.member_id == member_id, T.c.starts_on < until, T.c.until > starts_on)
    return (await session.execute(stmt)).mappings().first()


async def states_from(session: AsyncSession, node: int, day: dt.date) -> list[RowMapping]:
    """Active states in the organization on the day or later (those a dissolution or merge would strand)."""
    stmt = (
        select(S, M.c.version)
        .join(M, M.c.id == S.c.member_id)
        .where(
            S.c.org_node == node,
            S.c.status.in_(ACTIVE_STATUSES),
            or_(S.c.valid_to.is_(None), S.c.valid_to > day),
        )
        .order_by(M.c.sort_key, M.c.id)
    )
    return list((await session.execute(stmt)).mappings().all())


async def count_from(session: AsyncSession, node: int, day: dt.date) -> int:
    stmt = select(func.count()).where(
        S.c.org_node == node,
        S.c.status.in_(ACTIVE_STATUSES),
        or_(S.c.valid_to.is_(None), S.c.valid_to > day),
    )
    return int((await session.execute(stmt)).scalar_one())


async def latest_rating(session: AsyncSession, member_id: uuid.UUID, year: int) -> RowMapping | None:
    stmt = select(R).where(R.c.member_id == member_id, R.c.year == year).order_by(R.c.id.desc()).limit(1)
    return (await session.execute(stmt)).mappings().first()


# ------------------------------------------------------------------------------------------------ reads


async def list_rows(
    session: AsyncSession,
    *,
    day: dt.date,
    org_node: int | None,
    within_path: str | None,
    scope_path: str | None,
    statuses: Sequence[str] | None,
    q_pattern: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = select(*LIST_COLUMNS).join(S, S.c.member_id == M.c.id).where(state_valid_on(day))
    if org_node is not None:
        # At home there, or temporarily active there on the day.
        stmt = stmt.where(
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
        stmt = stmt.where(
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
        stmt = stmt.where(
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
        stmt = stmt.where(S.c.status.in_(statuses))
    if q_pattern:
        stmt = stmt.where(
            or_(
                M.c.name_search.like(q_pattern, escape="\\"),
                func.lower(M.c.member_no).like(q_pattern, escape="\\"),
            )
        )
    if after is not None:
        key, last_id = after
        stmt = stmt.where(or_(M.c.sort_key > key, and_(M.c.sort_key == key, M.c.id > last_id)))
    stmt = stmt.order_by(M.c.sort_key, M.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


# ----------------------------------------------------------------------------------------------- writes


async def insert_member(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(M).values(version=1, recorded_at=dt.datetime.now(dt.UTC), **values))


async def insert_state(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(S).values(**values))


async def new_state(session: AsyncSession, member_id: uuid.UUID, day: dt.date, **changes: Any) -> None:
    """Close the member's current state on ``day`` and open a new one with ``changes`` applied."""
    current = (
        (await session.execute(select(S).where(S.c.member_id == member_id, S.c.valid_to.is_(None))))
        .mappings()
        .one()
    )
    await session.execute(update(S).where(S.c.id == current["id"]).values(valid_to=day))
    values = {k: v for k, v in current.items() if k != "id"}
    values.update(changes, valid_from=day, valid_to=None)
    await session.execute(insert(S).values(**values))


async def insert_temporary(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(T).values(**values))


async def bump_version(session: AsyncSession, member_id: uuid.UUID) -> int:
    result = await session.execute(
        update(M).where(M.c.id == member_id).values(version=M.c.version + 1).returning(M.c.version)
    )
    return int(result.scalar_one())


async def record_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(C).values(recorded_at=dt.datetime.now(dt.UTC), **values))


async def insert_rating(session: AsyncSession, **values: Any) -> dt.datetime:
    recorded_at = dt.datetime.now(dt.UTC)
    await session.execute(insert(R).values(recorded_at=recorded_at, **values))
    return recorded_at


async def record_sensitive_read(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(A).values(at=dt.datetime.now(dt.UTC), **values))
