"""Every query of plans and of what their checks read (posts held, disciplines, attained levels).

Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, extract, func, insert, or_, select, true, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.assignments.models import Assignment
from services.cadres.cadres.models import Cadre
from services.cadres.cadres.schemas import TheoryLevel
from services.cadres.disciplines.models import Discipline
from services.cadres.planning.models import AttainedLevel, Plan
from services.cadres.posts.models import Post
from services.cadres.posts.repository import holding_on
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree, subtree_bounds

L = Plan.__table__
T = Post.__table__
P = ProjectedOrganization.__table__
A = Assignment.__table__
D = Discipline.__table__
Q = AttainedLevel.__table__
K = Cadre.__table__

# none < elementary < intermediate < advanced < bachelor (``THEORY_ORDER`` of the service).
LEVEL_RANK = {level.value: rank for rank, level in enumerate(TheoryLevel)}


def in_force_on(day: Any) -> Any:
    """Plan entries in force on the day (added, not yet removed); ``day``: a date or a bound parameter."""
    return and_(L.c.added_on <= day, or_(L.c.removed_on.is_(None), L.c.removed_on > day))


def _with_post() -> Any:
    return (
        select(L, T.c.org_id.label("post_org_id"), P.c.path.label("org_path"), P.c.level.label("org_level"))
        .join(T, T.c.id == L.c.post_id)
        .join(P, P.c.id == T.c.org_id, isouter=True)
    )


# The statements of adding a plan entry (and of the qualification events) are built once, here, and
# executed with parameters: building a statement (coercing its columns, then computing its cache key) costs
# more CPU than running it.
DAY = bindparam("day", type_=Date)
PLAN_BY_ID = _with_post().where(L.c.id == bindparam("plan_id"))
INSERT_PLAN = insert(L)  # the columns are those of the parameters given
LOCK_CADRE = select(K.c.id).where(K.c.id == bindparam("cadre_id")).with_for_update()
LOCK_POST = select(T.c.id).where(T.c.id == bindparam("post_id")).with_for_update()
NOT_REMOVED_EXISTS = (
    select(L.c.id)
    .where(
        L.c.cadre_id == bindparam("cadre_id"),
        L.c.post_id == bindparam("post_id"),
        L.c.term == bindparam("term"),
        L.c.removed_on.is_(None),
    )
    .limit(1)
)
CANDIDATES_FOR_POST = (
    select(func.count())
    .select_from(L)
    .where(L.c.post_id == bindparam("post_id"), L.c.term == bindparam("term"), in_force_on(DAY))
)
POSTS_OF_CADRE_AT_LEVEL = (
    select(func.count(func.distinct(L.c.post_id)))
    .select_from(L.join(T, T.c.id == L.c.post_id).join(P, P.c.id == T.c.org_id))
    .where(
        L.c.cadre_id == bindparam("cadre_id"),
        L.c.term == bindparam("term"),
        in_force_on(DAY),
        P.c.level == bindparam("level"),
    )
)
HELD_POSTS = (
    select(T.c.id, T.c.title, T.c.category, P.c.level.label("org_level"), A.c.starts_on)
    .select_from(A.join(T, T.c.id == A.c.post_id).join(P, P.c.id == T.c.org_id, isouter=True))
    .where(A.c.cadre_id == bindparam("cadre_id"), holding_on(DAY))
)
DISCIPLINES_UNTIL = (
    select(D)
    .where(D.c.cadre_id == bindparam("cadre_id"), D.c.decided_on <= bindparam("until", type_=Date))
    .order_by(D.c.decided_on)
)
INSERT_ATTAINED = insert(Q)


async def get(session: AsyncSession, plan_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(PLAN_BY_ID, {"plan_id": plan_id})).mappings().first()


async def insert_plan(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_PLAN, values)


async def lock_for_planning(session: AsyncSession, *, cadre_id: uuid.UUID, post_id: uuid.UUID) -> None:
    """Serialize plan entries of one cadre and of one post (PostgreSQL row locks; SQLite has one writer), so
    two concurrent requests cannot both take the last candidate place of a post or of a cadre's level."""
    await session.execute(LOCK_CADRE, {"cadre_id": cadre_id})
    await session.execute(LOCK_POST, {"post_id": post_id})


async def remove_plan(session: AsyncSession, plan_id: uuid.UUID, *, removed_on: dt.date, reason: str) -> None:
    await session.execute(
        update(L)
        .where(L.c.id == plan_id, L.c.removed_on.is_(None))
        .values(removed_on=removed_on, removal_reason=reason)
    )


async def not_removed_of_cadre(session: AsyncSession, cadre_id: uuid.UUID) -> list[RowMapping]:
    stmt = select(L).where(L.c.cadre_id == cadre_id, L.c.removed_on.is_(None)).order_by(L.c.added_on, L.c.id)
    return list((await session.execute(stmt)).mappings().all())


async def not_removed_exists(
    session: AsyncSession, *, cadre_id: uuid.UUID, post_id: uuid.UUID, term: str
) -> bool:
    params = {"cadre_id": cadre_id, "post_id": post_id, "term": term}
    return (await session.execute(NOT_REMOVED_EXISTS, params)).first() is not None


async def candidates_for_post(session: AsyncSession, *, post_id: uuid.UUID, term: str, day: dt.date) -> int:
    params = {"post_id": post_id, "term": term, "day": day}
    return int((await session.execute(CANDIDATES_FOR_POST, params)).scalar_one())


async def posts_of_cadre_at_level(
    session: AsyncSession, *, cadre_id: uuid.UUID, term: str, day: dt.date, level: str
) -> int:
    params = {"cadre_id": cadre_id, "term": term, "day": day, "level": level}
    return int((await session.execute(POSTS_OF_CADRE_AT_LEVEL, params)).scalar_one())


async def held_posts(session: AsyncSession, *, cadre_id: uuid.UUID, day: dt.date) -> list[RowMapping]:
    """The posts the cadre holds on the day, with their category, organization level and since when."""
    return list((await session.execute(HELD_POSTS, {"cadre_id": cadre_id, "day": day})).mappings().all())


async def disciplines_of(session: AsyncSession, cadre_id: uuid.UUID, *, until: dt.date) -> list[RowMapping]:
    params = {"cadre_id": cadre_id, "until": until}
    return list((await session.execute(DISCIPLINES_UNTIL, params)).mappings().all())


async def list_rows(
    session: AsyncSession,
    *,
    scope_path: str | None,
    within_path: str | None,
    term: str | None,
    post_id: uuid.UUID | None,
    cadre_id: uuid.UUID | None,
    day: dt.date | None,
    after: tuple[str, str, str] | None,
    limit: int,
) -> list[RowMapping]:
    stmt = _with_post()
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    if term:
        stmt = stmt.where(L.c.term == term)
    if post_id is not None:
        stmt = stmt.where(L.c.post_id == post_id)
    if cadre_id is not None:
        stmt = stmt.where(L.c.cadre_id == cadre_id)
    if day is not None:
        stmt = stmt.where(in_force_on(day))
    if after is not None:
        a_term, a_added, a_id = after
        added = dt.date.fromisoformat(a_added)
        stmt = stmt.where(
            or_(
                L.c.term > a_term,
                and_(L.c.term == a_term, L.c.added_on > added),
                and_(L.c.term == a_term, L.c.added_on == added, L.c.id > uuid.UUID(a_id)),
            )
        )
    stmt = stmt.order_by(L.c.term, L.c.added_on, L.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


@functools.cache
def _plans_of_cadre(scoped: bool) -> Any:
    """A cadre's plan entries in force on ``day`` (and with the post's organization in ``[lo, hi)`` when
    ``scoped``), as ``list_rows`` orders them: built once per shape."""
    stmt = _with_post().where(L.c.cadre_id == bindparam("cadre_id"), in_force_on(DAY))
    if scoped:
        stmt = stmt.where(P.c.path >= bindparam("lo"), P.c.path < bindparam("hi"))
    return stmt.order_by(L.c.term, L.c.added_on, L.c.id).limit(bindparam("limit"))


async def plans_of_cadre(
    session: AsyncSession, cadre_id: uuid.UUID, day: dt.date, *, scope_path: str | None, limit: int
) -> list[RowMapping]:
    """As ``list_rows(cadre_id=, day=)`` from the first page: at most ``limit + 1`` rows."""
    params: dict[str, Any] = {"cadre_id": cadre_id, "day": day, "limit": limit + 1}
    if scope_path is not None:
        params["lo"], params["hi"] = subtree_bounds(scope_path)
    stmt = _plans_of_cadre(scope_path is not None)
    return list((await session.execute(stmt, params)).mappings().all())


# --------------------------------------------------------------------------------------------- coverage


async def posts_in(
    session: AsyncSession, *, scope_path: str | None, within_path: str | None
) -> list[RowMapping]:
    stmt = select(T, P.c.name.label("org_name"), P.c.path.label("org_path")).join(
        P, P.c.id == T.c.org_id, isouter=True
    )
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    return list((await session.execute(stmt.order_by(P.c.path, T.c.id))).mappings().all())


async def plans_in_force(
    session: AsyncSession, *, term: str, day: dt.date, scope_path: str | None, within_path: str | None
) -> list[RowMapping]:
    stmt = select(L.c.post_id, L.c.cadre_id).join(T, T.c.id == L.c.post_id).join(P, P.c.id == T.c.org_id)
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    stmt = stmt.where(L.c.term == term, in_force_on(day))
    return list((await session.execute(stmt)).mappings().all())


def _plans_in_scope(*, term: str, day: dt.date, scope_path: str | None, within_path: str | None) -> Any:
    """The (post, cadre) pairs in force on the day for the term, posts in scope (as ``plans_in_force``)."""
    stmt = select(L.c.post_id, L.c.cadre_id).join(T, T.c.id == L.c.post_id).join(P, P.c.id == T.c.org_id)
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    return stmt.where(L.c.term == term, in_force_on(day))


def _posts_in_scope_count(*, scope_path: str | None, within_path: str | None) -> Any:
    """How many posts ``posts_in`` would answer (a scalar subquery)."""
    stmt = select(func.count()).select_from(T.join(P, P.c.id == T.c.org_id, isouter=True))
    for path in (scope_path, within_path):
        if path is not None:
            stmt = stmt.where(in_subtree(P.c.path, path))
    return stmt.scalar_subquery()


def level_rank(level: Any) -> Any:
    """The rank of a political theory level in ``THEORY_ORDER`` (none 0 < elementary 1 < … < bachelor 4);
    NULL for anything else, as ``attained`` ignores a value that is not a level."""
    return case(LEVEL_RANK, value=level, else_=None)


def date_key(day: Any) -> Any:
    """A date as the integer YYYYMMDD, on every backend (SQLite: ``strftime``; PostgreSQL: ``EXTRACT``)."""
    return extract("year", day) * 10000 + extract("month", day) * 100 + extract("day", day)


def _reaches(cadre_id: Any, rank: Any, day: dt.date) -> Any:
    """1 when the cadre's level on the day (``attained``: the highest of the declared level and those
    received until the day) is at least ``rank``, else 0: the declared level looked up by primary key,
    then, only when it falls short, whether a received level reaches it — no maximum is computed."""
    declared = select(level_rank(K.c.declared_theory_level)).where(K.c.id == cadre_id).scalar_subquery()
    received = (
        select(Q.c.cadre_id)
        .where(Q.c.cadre_id == cadre_id, Q.c.attained_on <= day, level_rank(Q.c.theory_level) >= rank)
        .exists()
    )
    return case((declared >= rank, 1), (received, 1), else_=0)


async def coverage_counts(
    session: AsyncSession, *, term: str, day: dt.date, scope_path: str | None, within_path: str | None
) -> dict[str, int]:
    """The coverage totals in one statement answering one row: the posts in scope (``posts_in``), the posts
    with at least one and with exactly one distinct planned cadre, the distinct planned cadres and how many
    of them are ready (``is_ready`` for at least one of their posts), over the distinct (post, cadre) pairs
    in force on the day for the term, posts in scope (a CTE, read once on PostgreSQL).

    Readiness in SQL, as ``attained`` and ``is_ready`` decide it (``tests/test_planning_readiness.py`` holds
    them side by side). Per pair: ``r``, the rank of the required level (0: none required, or ``none``) and
    ``y``, the years required in the prior post (0: none). Per cadre, grouped: the least ``r`` over its
    posts that require no years — ready when 0 (most cadres, nothing looked up), else when its level reaches
    it (``_reaches``: the declared level by primary key, the received ones only when that falls short); and,
    for the few posts requiring years, whether the post is met: the level, and ``full_years(since, day) >=
    y`` with ``since`` the earliest start of an assignment held on the day, i.e. some assignment held on the
    day started on or before ``day`` less ``y`` years — compared as YYYYMMDD integers, ``start <= day - y *
    10000``, which counts full years as ``full_years`` does (29 February included). ``CASE`` evaluates the
    lookups of a branch only when it is reached."""
    years = func.coalesce(T.c.min_years_in_prior_post, 0)
    required = T.c.required_theory_level
    pairs = (
        _plans_in_scope(term=term, day=day, scope_path=scope_path, within_path=within_path)
        .with_only_columns(
            L.c.post_id,
            L.c.cadre_id,
            case((or_(required.is_(None), required == ""), 0), else_=level_rank(required)).label("r"),
            years.label("y"),
        )
        .distinct()
        .cte("pairs")
    )
    day_key = day.year * 10000 + day.month * 100 + day.day
    long_enough = (
        select(A.c.cadre_id)
        .where(
            A.c.cadre_id == pairs.c.cadre_id,
            holding_on(day),
            date_key(A.c.starts_on) <= day_key - pairs.c.y * 10000,
        )
        .exists()
    )
    post_met_with_years = case(
        (pairs.c.y == 0, 0),
        (~long_enough, 0),
        (pairs.c.r == 0, 1),
        else_=_reaches(pairs.c.cadre_id, pairs.c.r, day),
    )
    per_cadre = (
        select(
            pairs.c.cadre_id,
            func.min(case((pairs.c.y == 0, pairs.c.r), else_=None)).label("r_plain"),
            func.max(post_met_with_years).label("met_with_years"),
        )
        .group_by(pairs.c.cadre_id)
        .subquery("per_cadre")
    )
    ready = case(
        (per_cadre.c.met_with_years == 1, 1),
        (per_cadre.c.r_plain == 0, 1),
        (per_cadre.c.r_plain.is_(None), 0),
        else_=_reaches(per_cadre.c.cadre_id, per_cadre.c.r_plain, day),
    )
    cadres = (
        select(func.count().label("candidates"), func.coalesce(func.sum(ready), 0).label("ready_candidates"))
        .select_from(per_cadre)
        .subquery("cadres")
    )
    per_post = select(pairs.c.post_id, func.count().label("n")).group_by(pairs.c.post_id).subquery("per_post")
    posts = (
        select(
            func.count().label("planned_posts"),
            func.count(case((per_post.c.n == 1, 1))).label("posts_with_one"),
        )
        .select_from(per_post)
        .subquery("planned")
    )
    stmt = select(
        _posts_in_scope_count(scope_path=scope_path, within_path=within_path).label("posts"),
        posts.c.planned_posts,
        posts.c.posts_with_one,
        cadres.c.candidates,
        cadres.c.ready_candidates,
    ).select_from(cadres.join(posts, true()))
    return {k: int(v) for k, v in (await session.execute(stmt)).mappings().one().items()}


async def declared_levels(session: AsyncSession, cadre_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not cadre_ids:
        return {}
    rows = await session.execute(select(K.c.id, K.c.declared_theory_level).where(K.c.id.in_(cadre_ids)))
    return {r.id: r.declared_theory_level for r in rows}


async def attained_levels(
    session: AsyncSession, cadre_ids: list[uuid.UUID], *, until: dt.date
) -> dict[uuid.UUID, list[str]]:
    if not cadre_ids:
        return {}
    rows = await session.execute(
        select(Q.c.cadre_id, Q.c.theory_level).where(Q.c.cadre_id.in_(cadre_ids), Q.c.attained_on <= until)
    )
    found: dict[uuid.UUID, list[str]] = {}
    for r in rows:
        found.setdefault(r.cadre_id, []).append(r.theory_level)
    return found


async def current_assignment_starts(
    session: AsyncSession, cadre_ids: list[uuid.UUID], *, day: dt.date
) -> dict[uuid.UUID, dt.date]:
    """The start of each cadre's current assignment (the longest-held one when several) on the day."""
    if not cadre_ids:
        return {}
    rows = await session.execute(
        select(A.c.cadre_id, func.min(A.c.starts_on).label("since"))
        .where(A.c.cadre_id.in_(cadre_ids), holding_on(day))
        .group_by(A.c.cadre_id)
    )
    return {r.cadre_id: r.since for r in rows}


async def insert_attained(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_ATTAINED, values)
