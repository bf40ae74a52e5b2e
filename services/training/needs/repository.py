"""The training-needs query, in SQL (it runs over the whole country's cadres on PostgreSQL).

A *need* is a (cadre, post, relation) where on ``as_of`` the cadre holds the post (assignment in force) or is
planned for it (plan entry in force), and the post's required rank is above the cadre's attained rank that
day: the highest of the declared rank and the completed political theory courses by then. The query starts
from the posts of the subtree (``post_projection`` by organization, the organization's path a range scan),
reaches holders and planned cadres through ``(post_id, starts_on)`` and ``(post_id, added_on)``, drops cadres
whose declared level suffices before looking at any enrollment, and reads completions through the partial
index ``ix_enrollments_attained`` (cadre, completed_on, rank).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

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


def needs_query(
    *,
    day: dt.date,
    paths: list[str],
    post_category: str | None,
    cadre_id: uuid.UUID | None,
) -> Any:
    """One row per need: cadre, post, relation, the ranks; filtered by the posts' organizations."""
    held = select(A.c.cadre_id, A.c.post_id, literal("held").label("relation")).where(
        A.c.starts_on <= day, or_(A.c.ends_on.is_(None), A.c.ends_on > day)
    )
    planned = select(L.c.cadre_id, L.c.post_id, literal("planned").label("relation")).where(
        L.c.added_on <= day, or_(L.c.removed_on.is_(None), L.c.removed_on > day)
    )
    if cadre_id is not None:
        held = held.where(A.c.cadre_id == cadre_id)
        planned = planned.where(L.c.cadre_id == cadre_id)
    links = union_all(held, planned).subquery("links")
    course_rank = (
        select(func.max(E.c.theory_rank))
        .where(
            E.c.cadre_id == K.c.id,
            E.c.status == "completed",
            E.c.programme_kind == "political_theory",
            E.c.completed_on <= day,
        )
        .scalar_subquery()
    )
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
            func.coalesce(course_rank, 0).label("course_rank"),
        )
        .select_from(links)
        .join(T, T.c.id == links.c.post_id)
        .join(P, P.c.id == T.c.org_id)
        .join(K, K.c.id == links.c.cadre_id)
        .where(
            T.c.required_rank.is_not(None),
            T.c.required_rank > K.c.declared_rank,
            K.c.full_name.is_not(None),
            or_(K.c.status.is_(None), K.c.status == "active"),
        )
    )
    for path in paths:
        stmt = stmt.where(in_subtree(P.c.path, path))
    if post_category is not None:
        stmt = stmt.where(T.c.category == post_category)
    inner = stmt.subquery("candidates")
    return select(inner).where(inner.c.required_rank > inner.c.course_rank).cte("needs")


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
    needs = needs_query(day=day, paths=paths, post_category=post_category, cadre_id=cadre_id)
    cadres = select(needs.c.cadre_id, needs.c.sort_key).distinct()
    if after is not None:
        key, last_id = after
        cadres = cadres.where(
            or_(needs.c.sort_key > key, and_(needs.c.sort_key == key, needs.c.cadre_id > uuid.UUID(last_id)))
        )
    chosen = cadres.order_by(needs.c.sort_key, needs.c.cadre_id).limit(limit + 1).subquery("chosen")
    stmt = (
        select(needs)
        .join(chosen, chosen.c.cadre_id == needs.c.cadre_id)
        .order_by(
            needs.c.sort_key, needs.c.cadre_id, needs.c.required_rank.desc(), needs.c.relation, needs.c.title
        )
    )
    return list((await session.execute(stmt)).mappings().all())
