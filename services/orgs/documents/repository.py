"""Every query of the documents register. Nothing here commits; the unit of work does."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.documents.models import Document
from services.orgs.organizations.repository import O, V, child_path, in_subtree, path_nodes

D = Document.__table__

ROW_COLUMNS = (*D.c, O.c.id.label("issuer_org_id"))


def _rows() -> Any:
    return select(*ROW_COLUMNS).select_from(D).outerjoin(O, O.c.node == D.c.issuer_node)


# The statements of registration (and of the read that answers it) are built once, with bind parameters:
# building a select costs more CPU than running it on SQLite.
ROW_OF_ID = _rows().where(D.c.id == bindparam("document_id"))
ID_OF_NUMBER_WITHOUT_ISSUER = select(D.c.id).where(
    D.c.issuer_node.is_(None), D.c.number == bindparam("number")
)
ID_OF_ISSUER_NUMBER = select(D.c.id).where(
    D.c.issuer_node == bindparam("issuer_node"), D.c.number == bindparam("number")
)
INSERT_DOCUMENT = insert(D)


def visible_to(scope_path: str | None) -> Any:
    """What a caller scoped to ``scope_path`` sees: documents of no issuer (the register's own), of an
    issuer in the subtree as it stands today, or of an issuer above the scope (documents apply downwards)."""
    if scope_path is None:
        return None
    current = V.alias("issuer_now")
    inside = (
        select(current.c.node)
        .where(
            current.c.node == D.c.issuer_node,
            current.c.valid_to.is_(None),
            in_subtree(current.c.path, scope_path),
        )
        .exists()
    )
    return or_(D.c.issuer_node.is_(None), D.c.issuer_node.in_(path_nodes(scope_path)), inside)


def issued_within(within_path: str) -> Any:
    """Issued by the organization at the end of ``within_path`` or one under it *when issued* (a document
    stays where it was issued when its issuer moves later). Documents without an issuer belong to the
    root of the tree."""
    nodes = path_nodes(within_path)
    segment = child_path(None, nodes[-1])  # "/x/": that node anywhere in the issuer's path
    issuer = V.alias("issuer_on")
    inside = (
        select(issuer.c.node)
        .where(
            issuer.c.node == D.c.issuer_node,
            issuer.c.valid_from <= D.c.issued_on,
            or_(issuer.c.valid_to.is_(None), issuer.c.valid_to > D.c.issued_on),
            issuer.c.path.like(f"%{segment}%"),
        )
        .exists()
    )
    return or_(D.c.issuer_node.is_(None), inside) if len(nodes) == 1 else inside


def _filters(
    *,
    kind: str | None,
    start: dt.date | None,
    end: dt.date | None,
    within_path: str | None,
    scope_path: str | None,
) -> list[Any]:
    found = []
    if kind:
        found.append(D.c.kind == kind)
    if start is not None:
        found.append(D.c.issued_on >= start)
    if end is not None:
        found.append(D.c.issued_on <= end)
    if within_path is not None:
        found.append(issued_within(within_path))
    scope = visible_to(scope_path)
    if scope is not None:
        found.append(scope)
    return found


async def row(session: AsyncSession, document_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(ROW_OF_ID, {"document_id": document_id})).mappings().first()


async def number_taken(session: AsyncSession, issuer_node: int | None, number: str) -> bool:
    if issuer_node is None:
        found = await session.execute(ID_OF_NUMBER_WITHOUT_ISSUER, {"number": number})
    else:
        found = await session.execute(ID_OF_ISSUER_NUMBER, {"issuer_node": issuer_node, "number": number})
    return found.first() is not None


async def list_rows(
    session: AsyncSession,
    *,
    kind: str | None,
    start: dt.date | None,
    end: dt.date | None,
    within_path: str | None,
    scope_path: str | None,
    after: tuple[dt.date, str, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    """Ordered by ``issued_on`` (latest first), then number and id; ``limit + 1`` rows at most."""
    stmt = _rows().where(
        *_filters(kind=kind, start=start, end=end, within_path=within_path, scope_path=scope_path)
    )
    if after is not None:
        issued_on, number, document_id = after
        stmt = stmt.where(
            or_(
                D.c.issued_on < issued_on,
                and_(
                    D.c.issued_on == issued_on,
                    or_(D.c.number > number, and_(D.c.number == number, D.c.id > document_id)),
                ),
            )
        )
    stmt = stmt.order_by(D.c.issued_on.desc(), D.c.number, D.c.id).limit(limit + 1)
    return list((await session.execute(stmt)).mappings().all())


async def counts_by_kind(
    session: AsyncSession, start: dt.date, end: dt.date, within_path: str | None
) -> dict[str, int]:
    """Documents issued from ``start`` to ``end`` (both included) by kind, for the sector report."""
    stmt = (
        select(D.c.kind, func.count())
        .where(*_filters(kind=None, start=start, end=end, within_path=within_path, scope_path=None))
        .group_by(D.c.kind)
    )
    return {kind: int(count) for kind, count in (await session.execute(stmt)).all()}


async def insert_document(session: AsyncSession, **values: Any) -> None:
    await session.execute(INSERT_DOCUMENT, {"recorded_at": dt.datetime.now(dt.UTC), **values})
