"""The training-needs query, in SQL (it runs over the whole country's cadres on PostgreSQL).

A *need* is a (cadre, post, relation) where on ``as_of`` the cadre holds the post (assignment in force) or is
planned for it (plan entry in force), and the post's required rank is above the cadre's attained rank that
day: the highest of the declared rank and the completed political theory courses by then (read through the
partial index ``ix_enrollments_attained`` (cadre, completed_on, rank)). A page is the needs of the first
``limit + 1`` cadres in need after the cursor, by sort key then id. Two ways to find those cadres, exact for
any day and subtree, chosen by the number of posts with a requirement in the subtree:

* **from the posts** (a subtree with at most ``POSTS_FROM_SUBTREE`` such posts — an upper committee has
  ~1,000; counted first): one statement — the posts (a range of the path each post copies from its
  organization, ``ix_post_projection_org_path``), the holders and planned cadres of those posts through
  ``(post_id, starts_on)`` and ``(post_id, added_on)`` (index-only on PostgreSQL), each cadre's highest
  requirement, then its cadre row once, every candidate of the subtree sorted. Work grows with the subtree
  (~5 links per post, ~4 per cadre), not with the page.
* **from the cadres** (the country, a large subtree, one cadre): walk the cadres in ``(sort_key, id)`` order
  (``ix_cadre_projection_sort_key_id``) and keep a cadre when the highest requirement of the posts it holds or
  is planned for that day (within the subtree; through ``(cadre_id, starts_on)``, ``(cadre_id, added_on)``) is
  above its declared rank and then above its completed courses' — one probe each, stopping at the page's
  ``limit + 1``-th cadre. Work grows with the page over the density of cadres in need (~1 in 12 nationally,
  ~6,000 cadres walked for a page of 500), not with the country; it would grow with the whole country for a
  small subtree, hence the other way there.

Then the needs of the chosen cadres are read in full, as one query.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from sqlalchemy import and_, any_, bindparam, func, literal, or_, select, text, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Date, Uuid

from services.training.enrollments.models import Enrollment
from services.training.projections.models import (
    ProjectedAssignment,
    ProjectedCadre,
    ProjectedPlan,
    ProjectedPost,
)
from shared.orgtree.models import ProjectedOrganization
from shared.tree import in_subtree

E = Enrollment.__table__
A = ProjectedAssignment.__table__
L = ProjectedPlan.__table__
T = ProjectedPost.__table__
K = ProjectedCadre.__table__
P = ProjectedOrganization.__table__

# Where reading every need of the subtree (~5 links per post, each a cadre and a completion probe) costs about
# as much as walking the cadres for a page of 500 at the density such a subtree gives (~12,000 posts
# nationally; a page of 50 breaks even near 4,000): below, from the posts.
POSTS_FROM_SUBTREE = 5000


def _one_of(column: Any, ids: list[uuid.UUID], dialect: str) -> Any:
    """``column IN ids``: one array parameter on PostgreSQL (thousands of ids), a list elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Uuid)))
    return column.in_(ids)


def _held(day: dt.date) -> tuple[Any, ...]:
    return (A.c.starts_on <= day, or_(A.c.ends_on.is_(None), A.c.ends_on > day))


def _planned(day: dt.date) -> tuple[Any, ...]:
    return (L.c.added_on <= day, or_(L.c.removed_on.is_(None), L.c.removed_on > day))


def _course_rank(day: dt.date, cadre_id: Any = K.c.id) -> Any:
    """The highest rank of the cadre's political theory courses completed by ``day`` (null: none)."""
    return (
        select(func.max(E.c.theory_rank))
        .where(
            E.c.cadre_id == cadre_id,
            E.c.status == "completed",
            E.c.programme_kind == "political_theory",
            E.c.completed_on <= day,
        )
        .scalar_subquery()
    )


def _active() -> tuple[Any, ...]:
    return (K.c.full_name.is_not(None), or_(K.c.status.is_(None), K.c.status == "active"))


def needs_query(
    *,
    day: dt.date,
    paths: list[str],
    post_category: str | None,
    cadre_ids: Any = None,
) -> Any:
    """One row per need: cadre, post, relation, the ranks; filtered by the posts' organizations (``paths``)
    and to ``cadre_ids`` (a condition on a cadre id column)."""
    held = select(A.c.cadre_id, A.c.post_id, literal("held").label("relation")).where(*_held(day))
    planned = select(L.c.cadre_id, L.c.post_id, literal("planned").label("relation")).where(*_planned(day))
    if cadre_ids is not None:
        held = held.where(cadre_ids(A.c.cadre_id))
        planned = planned.where(cadre_ids(L.c.cadre_id))
    links = union_all(held, planned).subquery("links")
    stmt = (
        select(
            links.c.cadre_id,
            links.c.post_id,
            links.c.relation,
            T.c.title,
            T.c.category,
            T.c.org_id.label("post_org_id"),
            T.c.required_theory_level,
            T.c.required_rank,
            K.c.full_name,
            K.c.sort_key,
            K.c.org_id,
            K.c.declared_rank,
            func.coalesce(_course_rank(day), 0).label("course_rank"),
        )
        .select_from(links)
        .join(T, T.c.id == links.c.post_id)
        .join(K, K.c.id == links.c.cadre_id)
        .where(T.c.required_rank.is_not(None), T.c.required_rank > K.c.declared_rank, *_active())
    )
    if paths:
        stmt = stmt.join(P, P.c.id == T.c.org_id).where(*(in_subtree(P.c.path, path) for path in paths))
    if post_category is not None:
        stmt = stmt.where(T.c.category == post_category)
    inner = stmt.subquery("candidates")
    return select(inner).where(inner.c.required_rank > inner.c.course_rank).cte("needs")


def _after(sort_key: Any, cadre_id: Any, after: tuple[str, str] | None) -> tuple[Any, ...]:
    if after is None:
        return ()
    key, last_id = after
    return (or_(sort_key > key, and_(sort_key == key, cadre_id > uuid.UUID(last_id))),)


def subtree_posts(*, paths: list[str], post_category: str | None) -> Any:
    """The posts with a requirement in the subtree (``id``, ``required_rank``): a range of the posts' copy of
    their organization's path (``ix_post_projection_org_path``, index-only on PostgreSQL), and the few posts
    whose organization was not in the projection when they were defined, by their organization's path."""
    placed = select(T.c.id, T.c.required_rank).where(
        T.c.required_rank.is_not(None), *(in_subtree(T.c.org_path, path) for path in paths)
    )
    unplaced = (
        select(T.c.id, T.c.required_rank)
        .join(P, P.c.id == T.c.org_id)
        .where(
            T.c.org_path.is_(None),
            T.c.required_rank.is_not(None),
            *(in_subtree(P.c.path, path) for path in paths),
        )
    )
    if post_category is not None:
        placed = placed.where(T.c.category == post_category)
        unplaced = unplaced.where(T.c.category == post_category)
    return union_all(placed, unplaced)


def from_posts(
    *, day: dt.date, paths: list[str], post_category: str | None, after: tuple[str, str] | None, limit: int
) -> Any:
    """The ids of the first ``limit`` cadres in need after ``after``, from the holders and planned cadres of
    the subtree's posts (``(post_id, starts_on)``, ``(post_id, added_on)``; index-only on PostgreSQL): each
    candidate's highest requirement (taken before its cadre is read: above the declared rank or not, the
    highest is the one that counts), above its declared rank, in sort-key order, then its completions probed
    in that order until the page is full."""
    posts = subtree_posts(paths=paths, post_category=post_category).cte("posts")
    held = select(A.c.cadre_id, posts.c.required_rank).where(A.c.post_id == posts.c.id, *_held(day))
    planned = select(L.c.cadre_id, posts.c.required_rank).where(L.c.post_id == posts.c.id, *_planned(day))
    links = union_all(held, planned).subquery("links")
    highest = (
        select(links.c.cadre_id, func.max(links.c.required_rank).label("required"))
        .group_by(links.c.cadre_id)
        .subquery("highest")
    )
    candidates = (
        select(K.c.id, K.c.sort_key, highest.c.required)
        .select_from(highest)
        .join(K, K.c.id == highest.c.cadre_id)
        .where(highest.c.required > K.c.declared_rank, *_active(), *_after(K.c.sort_key, K.c.id, after))
        .order_by(K.c.sort_key, K.c.id)
        .offset(0)  # a fence: the completions are probed on the sorted candidates, not before sorting
        .subquery("candidates")
    )
    return (
        select(candidates.c.id)
        .where(candidates.c.required > func.coalesce(_course_rank(day, candidates.c.id), 0))
        .order_by(candidates.c.sort_key, candidates.c.id)
        .limit(limit)
    )


def walk_cadres(
    *,
    day: dt.date,
    paths: list[str],
    post_category: str | None,
    cadre_id: uuid.UUID | None,
    after: tuple[str, str] | None,
    limit: int,
) -> Any:
    """The ids of the first ``limit`` cadres in need after ``after``, walking the cadres in sort-key order."""
    held = select(A.c.post_id).where(A.c.cadre_id == K.c.id, *_held(day)).correlate(K)
    planned = select(L.c.post_id).where(L.c.cadre_id == K.c.id, *_planned(day)).correlate(K)
    required = select(func.max(T.c.required_rank)).where(
        T.c.id.in_(union_all(held, planned)), T.c.required_rank.is_not(None)
    )
    if paths:
        required = required.join(P, P.c.id == T.c.org_id).where(
            *(in_subtree(P.c.path, path) for path in paths)
        )
    if post_category is not None:
        required = required.where(T.c.category == post_category)
    highest = required.scalar_subquery()
    stmt = select(K.c.id).where(
        *_active(),
        *_after(K.c.sort_key, K.c.id, after),
        highest
        > K.c.declared_rank,  # cheap first: most cadres hold nothing requiring more than they declared
        highest > func.coalesce(_course_rank(day), 0),
    )
    if cadre_id is not None:
        stmt = stmt.where(K.c.id == cadre_id)
    return stmt.order_by(K.c.sort_key, K.c.id).limit(limit)


async def count_subtree_posts(
    session: AsyncSession, *, paths: list[str], post_category: str | None, cap: int
) -> int:
    """The number of posts with a requirement in the subtree, counted up to ``cap + 1`` (more: too many to
    start from)."""
    found = subtree_posts(paths=paths, post_category=post_category).limit(cap + 1).subquery("found")
    return int(await session.scalar(select(func.count()).select_from(found)) or 0)


async def page(
    session: AsyncSession,
    *,
    day: dt.date,
    paths: list[str],
    post_category: str | None,
    cadre_id: uuid.UUID | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[RowMapping]:
    """The needs of one page of cadres (``limit + 1`` cadres, ordered by sort key then id)."""
    dialect = session.get_bind().dialect.name
    if cadre_id is not None and after is None:
        # One cadre (a profile's question): the needs query itself tells whether it is in need.
        if not paths and post_category is None:
            stmt = _needs_of_one_cadre()
            return list(
                (await session.execute(stmt, {"b_day": day, "b_cadre_id": cadre_id})).mappings().all()
            )
        return await _needs_of(session, [cadre_id], day=day, paths=paths, post_category=post_category)
    posts = None
    if paths and cadre_id is None:
        posts = await count_subtree_posts(
            session, paths=paths, post_category=post_category, cap=POSTS_FROM_SUBTREE
        )
        if not posts:
            return []
    if posts is not None and posts <= POSTS_FROM_SUBTREE:
        chosen = from_posts(day=day, paths=paths, post_category=post_category, after=after, limit=limit + 1)
    else:
        if dialect == "postgresql":
            # The walk's estimate multiplies per-cadre subplans by a guessed selectivity (~10x the real
            # cost for a page of 500): just-in-time compilation would cost more than the query itself.
            await session.execute(text("SET LOCAL jit = off"))
        chosen = walk_cadres(
            day=day, paths=paths, post_category=post_category, cadre_id=cadre_id, after=after, limit=limit + 1
        )
    ids = list((await session.scalars(chosen)).all())
    if not ids:
        return []
    return await _needs_of(session, ids, day=day, paths=paths, post_category=post_category)


@functools.cache
def _needs_of_one_cadre() -> Any:
    """The needs of one cadre anywhere (``b_cadre_id``, ``b_day``): built once (building it per request cost
    more than running it)."""
    needs = needs_query(
        day=bindparam("b_day", type_=Date),
        paths=[],
        post_category=None,
        cadre_ids=lambda column: column == bindparam("b_cadre_id", type_=Uuid),
    )
    return select(needs).order_by(needs.c.required_rank.desc(), needs.c.relation, needs.c.title)


async def _needs_of(
    session: AsyncSession,
    ids: list[uuid.UUID],
    *,
    day: dt.date,
    paths: list[str],
    post_category: str | None,
) -> list[RowMapping]:
    """The needs of these cadres, ordered by sort key, id, then each cadre's posts."""
    dialect = session.get_bind().dialect.name
    needs = needs_query(
        day=day,
        paths=paths,
        post_category=post_category,
        cadre_ids=lambda column: _one_of(column, ids, dialect),
    )
    stmt = select(needs).order_by(
        needs.c.sort_key, needs.c.cadre_id, needs.c.required_rank.desc(), needs.c.relation, needs.c.title
    )
    return list((await session.execute(stmt)).mappings().all())
