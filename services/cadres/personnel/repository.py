"""Queries of personnel actions and assignments; plans and disciplines read as plain tables.

Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Date, String, Uuid, and_, bindparam, column, func, insert, or_, select, table, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.assignments.models import Assignment
from services.cadres.cadres.models import Cadre
from services.cadres.personnel.models import PersonnelAction
from services.cadres.posts.models import Post
from services.cadres.posts.repository import POST_WITH_HOLDERS_BY_ID, holding_on
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

X = PersonnelAction.__table__
A = Assignment.__table__
T = Post.__table__
K = Cadre.__table__
P = ProjectedOrganization.__table__
Row = Mapping[str, Any]  # a RowMapping, or a dict built from a joined row

# Kept by the planning and disciplines packages; read here by name only.
plans = table(
    "plans",
    column("id", Uuid),
    column("cadre_id", Uuid),
    column("post_id", Uuid),
    column("term", String),
    column("added_on", Date),
    column("removed_on", Date),
)
disciplines = table(
    "disciplines", column("cadre_id", Uuid), column("measure", String), column("decided_on", Date)
)

# The statements of recording an action are built once, here, and executed with parameters: building a
# statement (coercing its columns, then computing its cache key) costs more CPU than running it.
DAY = bindparam("day", type_=Date)
ASSIGNMENTS_OF_CADRE = select(A).where(A.c.cadre_id == bindparam("cadre_id")).order_by(A.c.starts_on, A.c.id)
HOLDERS_ON_DAY = (
    select(func.count()).select_from(A).where(A.c.post_id == bindparam("post_id"), holding_on(DAY))
)
HOLDERS_ON_DAY_BESIDES = HOLDERS_ON_DAY.where(A.c.id.not_in(bindparam("besides", expanding=True)))
INSERT_ASSIGNMENT = insert(A)  # the columns are those of the parameters given
END_ASSIGNMENT = (
    update(A)
    .where(A.c.id == bindparam("assignment_id"))
    .values(ends_on=bindparam("new_ends_on"), ended_by=bindparam("new_ended_by"), version=A.c.version + 1)
    .returning(A.c.version)
)
IN_PLAN_ON_DAY = (
    select(plans.c.id)
    .where(
        plans.c.cadre_id == bindparam("cadre_id"),
        plans.c.post_id == bindparam("post_id"),
        plans.c.added_on <= DAY,
        or_(plans.c.removed_on.is_(None), plans.c.removed_on > DAY),
    )
    .limit(1)
)
DISCIPLINES_UNTIL_DAY = (
    select(disciplines.c.measure, disciplines.c.decided_on)
    .where(disciplines.c.cadre_id == bindparam("cadre_id"), disciplines.c.decided_on <= DAY)
    .order_by(disciplines.c.decided_on)
)
INSERT_ACTION = insert(X)

# What an action is checked against, in two statements instead of five (each one a round trip and its
# share of the request's CPU):
# * the cadre with its home organization, how many disciplinary measures it has (their rows are read only
#   when there are some) and every assignment — one row per assignment by start (``assignments_of_cadre``'s
#   order), or one row with NULL assignment columns;
# * the post with its organization and holders on the day (``posts.repository``), and whether the cadre is
#   in its succession plan on that day (``in_plan``).
CADRE_COLUMNS = (*(c.name for c in K.c), "org_name", "org_path", "disciplines")
ASSIGNMENT_COLUMNS = tuple(c.name for c in A.c)
CADRE_WITH_ASSIGNMENTS = (
    select(
        K,
        P.c.name.label("org_name"),
        P.c.path.label("org_path"),
        select(func.count())
        .select_from(disciplines)
        .where(disciplines.c.cadre_id == K.c.id)
        .scalar_subquery()
        .label("disciplines"),
        *(c.label(f"a_{c.name}") for c in A.c),
    )
    .select_from(K.outerjoin(P, P.c.id == K.c.org_id).outerjoin(A, A.c.cadre_id == K.c.id))
    .where(K.c.id == bindparam("cadre_id"))
    .order_by(A.c.starts_on, A.c.id)
)
POST_FOR_ACTION = POST_WITH_HOLDERS_BY_ID.add_columns(
    select(plans.c.id)
    .where(
        plans.c.cadre_id == bindparam("cadre_id"),
        plans.c.post_id == T.c.id,
        plans.c.added_on <= DAY,
        or_(plans.c.removed_on.is_(None), plans.c.removed_on > DAY),
    )
    .exists()
    .label("in_plan")
)


async def cadre_with_assignments(
    session: AsyncSession, cadre_id: uuid.UUID
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The cadre (as ``cadres.repository.get``, with ``disciplines``: how many measures) or None, and all its
    assignments by start (as ``assignments_of_cadre``)."""
    rows = (await session.execute(CADRE_WITH_ASSIGNMENTS, {"cadre_id": cadre_id})).mappings().all()
    if not rows:
        return None, []
    cadre = {name: rows[0][name] for name in CADRE_COLUMNS}
    history = [{name: r[f"a_{name}"] for name in ASSIGNMENT_COLUMNS} for r in rows if r["a_id"] is not None]
    return cadre, history


async def post_for_action(
    session: AsyncSession, post_id: uuid.UUID, day: dt.date, *, cadre_id: uuid.UUID
) -> RowMapping | None:
    """The post as ``posts.repository.get`` reads it, with ``in_plan``: the cadre is in the post's succession
    plan on the day (``in_plan``)."""
    params = {"post_id": post_id, "day": day, "cadre_id": cadre_id}
    return (await session.execute(POST_FOR_ACTION, params)).mappings().first()


# ------------------------------------------------------------------------------------------- assignments


async def assignments_of_cadre(session: AsyncSession, cadre_id: uuid.UUID) -> list[RowMapping]:
    """Every assignment of the cadre, by start (a career is a few rows, on ``ix_assignments_cadre_dates``):
    what ``current_assignments``, ``latest_change`` and ``tenure_start`` read, in one query."""
    return list((await session.execute(ASSIGNMENTS_OF_CADRE, {"cadre_id": cadre_id})).mappings().all())


def current_assignments(assignments: Sequence[Row], day: dt.date) -> list[Row]:
    """Those in force on the day (``holding_on``), by start and id."""
    return [a for a in assignments if a["starts_on"] <= day and (a["ends_on"] is None or a["ends_on"] > day)]


def latest_change(assignments: Sequence[Row]) -> dt.date | None:
    """The latest day on which one of the cadre's assignments started or was ended by an action."""
    days = [a["starts_on"] for a in assignments]
    days += [a["ends_on"] for a in assignments if a["ended_by"] is not None and a["ends_on"] is not None]
    return max(days) if days else None


def tenure_start(assignments: Sequence[Row], assignment: Row) -> dt.date:
    """When the cadre began holding the assignment's post without a break (renewals are separate rows):
    follow the chain back through the earliest row of the same post ending on the day the next one starts."""
    start = assignment["starts_on"]
    same_post = [a for a in assignments if a["post_id"] == assignment["post_id"]]  # by starts_on already
    while True:
        before = next(
            (a["starts_on"] for a in same_post if a["ends_on"] == start and a["starts_on"] < start), None
        )
        if before is None:
            return start
        start = before


async def holders(
    session: AsyncSession, post_id: uuid.UUID, day: dt.date, *, besides: list[uuid.UUID]
) -> int:
    if besides:
        result = await session.execute(
            HOLDERS_ON_DAY_BESIDES, {"post_id": post_id, "day": day, "besides": besides}
        )
    else:
        result = await session.execute(HOLDERS_ON_DAY, {"post_id": post_id, "day": day})
    return int(result.scalar_one())


async def insert_assignment(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_ASSIGNMENT, values)


async def end_assignment(
    session: AsyncSession, assignment_id: uuid.UUID, *, ends_on: dt.date, ended_by: uuid.UUID
) -> int:
    result = await session.execute(
        END_ASSIGNMENT, {"assignment_id": assignment_id, "new_ends_on": ends_on, "new_ended_by": ended_by}
    )
    return int(result.scalar_one())


def _assignments_with_post() -> Any:
    return (
        select(
            A,
            T.c.title.label("post_title"),
            T.c.category.label("post_category"),
            P.c.name.label("org_name"),
            P.c.path.label("org_path"),
        )
        .join(T, T.c.id == A.c.post_id)
        .join(P, P.c.id == A.c.org_id, isouter=True)
    )


# A cadre's assignments in force on a day (a dossier's), built once: building it per request cost more CPU
# than running it.
ASSIGNMENTS_IN_FORCE = (
    _assignments_with_post()
    .where(A.c.cadre_id == bindparam("cadre_id"), holding_on(bindparam("day", type_=Date)))
    .order_by(A.c.starts_on, A.c.id)
    .limit(bindparam("limit"))
)


async def assignments_in_force(
    session: AsyncSession, cadre_id: uuid.UUID, day: dt.date, *, limit: int
) -> list[RowMapping]:
    """As ``assignments_of`` from the first page: at most ``limit + 1`` rows (the extra one says "more")."""
    params = {"cadre_id": cadre_id, "day": day, "limit": limit + 1}
    return list((await session.execute(ASSIGNMENTS_IN_FORCE, params)).mappings().all())


async def assignments_of(
    session: AsyncSession, cadre_id: uuid.UUID, day: dt.date, *, after: tuple[str, str] | None, limit: int
) -> list[RowMapping]:
    stmt = _assignments_with_post().where(A.c.cadre_id == cadre_id, holding_on(day))
    if after is not None:
        starts, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(A.c.starts_on > starts, and_(A.c.starts_on == starts, A.c.id > last_id)))
    stmt = stmt.order_by(A.c.starts_on, A.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


async def due(
    session: AsyncSession,
    *,
    day: dt.date,
    before: dt.date,
    scope_path: str | None,
    within_path: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    """Assignments in force on ``day`` whose term ends before ``before``, by term end."""
    stmt = _assignments_with_post().where(holding_on(day), A.c.term_ends_on < before)
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    if after is not None:
        ends, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(A.c.term_ends_on > ends, and_(A.c.term_ends_on == ends, A.c.id > last_id)))
    stmt = stmt.order_by(A.c.term_ends_on, A.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


# ------------------------------------------------------------------------------ plans and disciplines


async def in_plan(session: AsyncSession, cadre_id: uuid.UUID, post_id: uuid.UUID, day: dt.date) -> bool:
    params = {"cadre_id": cadre_id, "post_id": post_id, "day": day}
    return (await session.execute(IN_PLAN_ON_DAY, params)).first() is not None


async def disciplines_of(session: AsyncSession, cadre_id: uuid.UUID, day: dt.date) -> list[RowMapping]:
    params = {"cadre_id": cadre_id, "day": day}
    return list((await session.execute(DISCIPLINES_UNTIL_DAY, params)).mappings().all())


# -------------------------------------------------------------------------------------------- actions


async def insert_action(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_ACTION, values)


# The organizations an action concerns: made once (an alias's columns are built on first use).
home = P.alias("home")
to_org = P.alias("to_org")
from_org = P.alias("from_org")
post_org = P.alias("post_org")


def _actions() -> Any:
    return (
        select(
            X,
            home.c.path.label("home_path"),
            to_org.c.path.label("to_path"),
            from_org.c.path.label("from_path"),
            post_org.c.path.label("post_path"),
        )
        .join(K, K.c.id == X.c.cadre_id)
        .join(home, home.c.id == K.c.org_id, isouter=True)
        .join(to_org, to_org.c.id == X.c.to_org_id, isouter=True)
        .join(from_org, from_org.c.id == X.c.from_org_id, isouter=True)
        .join(T, T.c.id == X.c.post_id, isouter=True)
        .join(post_org, post_org.c.id == T.c.org_id, isouter=True)
    ), (home, to_org, from_org, post_org)


ACTION_BY_ID = _actions()[0].where(X.c.id == bindparam("action_id"))
# The assignments started or ended by the given actions (one list, bound twice).
ASSIGNMENTS_TOUCHED = (
    select(A.c.id, A.c.started_by, A.c.ended_by)
    .where(
        or_(
            A.c.started_by.in_(bindparam("action_ids", expanding=True)),
            A.c.ended_by.in_(bindparam("action_ids", expanding=True)),
        )
    )
    .order_by(A.c.starts_on, A.c.id)
)


async def get_action(session: AsyncSession, action_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(ACTION_BY_ID, {"action_id": action_id})).mappings().first()


async def list_actions(
    session: AsyncSession,
    *,
    scope_path: str | None,
    within_path: str | None,
    kind: str | None,
    cadre_id: uuid.UUID | None,
    from_day: dt.date | None,
    to_day: dt.date | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    stmt, (home, to_org, from_org, post_org) = _actions()
    if scope_path is not None:  # visible through the cadre or any organization the decision concerns
        stmt = stmt.where(
            or_(*(in_subtree(alias.c.path, scope_path) for alias in (home, to_org, from_org, post_org)))
        )
    if within_path is not None:  # about an organization of the subtree
        stmt = stmt.where(
            or_(*(in_subtree(alias.c.path, within_path) for alias in (to_org, from_org, post_org)))
        )
    if kind:
        stmt = stmt.where(X.c.kind == kind)
    if cadre_id is not None:
        stmt = stmt.where(X.c.cadre_id == cadre_id)
    if from_day is not None:
        stmt = stmt.where(X.c.decided_on >= from_day)
    if to_day is not None:
        stmt = stmt.where(X.c.decided_on <= to_day)
    if after is not None:
        decided, last_id = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
        stmt = stmt.where(or_(X.c.decided_on < decided, and_(X.c.decided_on == decided, X.c.id > last_id)))
    stmt = stmt.order_by(X.c.decided_on.desc(), X.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


async def assignments_touched(
    session: AsyncSession, action_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]]:
    """Per action: the assignments it started and those it ended."""
    found: dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]] = {i: ([], []) for i in action_ids}
    if not action_ids:
        return found
    rows = await session.execute(ASSIGNMENTS_TOUCHED, {"action_ids": action_ids})
    for assignment_id, started_by, ended_by in rows:
        if started_by in found:
            found[started_by][0].append(assignment_id)
        if ended_by in found:
            found[ended_by][1].append(assignment_id)
    return found
