"""Apply ``tochuc.cadres.*`` events to training's projections (durable consumer ``training__cadres``).

Each event runs in the consumer's transaction with its inbox row, so it is applied once. The rules that make
the projections idempotent and tolerant of order:

* a row remembers the last ``sequence`` applied; an event not newer changes nothing;
* events of different aggregates never depend on each other (no foreign keys): an assignment may arrive
  before its cadre or its post;
* a cadre update that arrives before the registration creates a partial row; the registration then fills
  only the fields the update left empty. An assignment (plan) ``ended`` (``removed``) that arrives before
  ``started`` (``added``) creates the row with its end; the start fills in the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.levels import theory_rank
from services.training.projections.models import (
    ProjectedAssignment,
    ProjectedCadre,
    ProjectedPlan,
    ProjectedPost,
    utcnow,
)
from services.training.projections.orgs import org_path
from shared.cloudevents import CloudEvent
from shared.text import vietnamese_sort_key

log = logging.getLogger("tochuc.training.projections")

# One durable consumer on cadres' stream, filtered to what training keeps (no personnel actions, no payroll).
CADRE_EVENTS = [
    "tochuc.cadres.cadre.>",
    "tochuc.cadres.post.>",
    "tochuc.cadres.assignment.>",
    "tochuc.cadres.plan.>",
]
PREFIX = "vn.tochuc.cadres."

K = ProjectedCadre.__table__
T = ProjectedPost.__table__
A = ProjectedAssignment.__table__
L = ProjectedPlan.__table__

# Built once, executed with parameters: one cadres' event arrives per cadre, post, assignment or plan written,
# and building a statement costs more than running it (the compiled SQL is cached either way). An insert's
# columns and an update's SET are the parameters given; ``b_id`` names the row an update changes.
ROW_OF_ID = {table: select(table).where(table.c.id == bindparam("row_id")) for table in (K, T, A, L)}
INSERT_ROW = {table: insert(table) for table in (K, T, A, L)}
UPDATE_ROW_OF_ID = {table: update(table).where(table.c.id == bindparam("b_id")) for table in (K, T, A, L)}


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


def cadre_values(data: dict[str, Any]) -> dict[str, Any]:
    """The projection's columns for the fields given (a registration, a change set or cadres' API answer)."""
    values: dict[str, Any] = {}
    if "full_name" in data:
        values["full_name"] = data["full_name"]
        values["sort_key"] = vietnamese_sort_key(data["full_name"]) if data["full_name"] else None
    if "declared_theory_level" in data:
        values["declared_theory_level"] = data["declared_theory_level"]
        values["declared_rank"] = theory_rank(data["declared_theory_level"])
    for field in ("gender", "education", "status"):
        if field in data:
            values[field] = data[field]
    for field in ("org_id", "member_id"):
        if field in data:
            values[field] = _uuid(data[field])
    if "birth_date" in data:
        values["birth_date"] = _day(data["birth_date"])
    return values


async def _get(session: AsyncSession, table: Any, row_id: uuid.UUID) -> Any:
    return (await session.execute(ROW_OF_ID[table], {"row_id": row_id})).mappings().first()


async def _insert(session: AsyncSession, table: Any, values: dict[str, Any]) -> None:
    await session.execute(INSERT_ROW[table], values)


async def _update(session: AsyncSession, table: Any, row_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(UPDATE_ROW_OF_ID[table], {"b_id": row_id, **values})


async def put_cadre(
    session: AsyncSession, cadre_id: uuid.UUID, values: dict[str, Any], sequence: int
) -> None:
    """Insert or update a cadre's row from a full description (a registration or a look-up)."""
    row = await _get(session, K, cadre_id)
    if row is None:
        await _insert(
            session,
            K,
            {"id": cadre_id, "sequence": sequence, "updated_at": utcnow(), "status": "active", **values},
        )
    elif sequence > row["sequence"]:
        await _update(session, K, cadre_id, {"sequence": sequence, "updated_at": utcnow(), **values})
    else:  # an update arrived first: fill only what it left empty
        missing = {k: v for k, v in values.items() if row[k] is None}
        if row["declared_theory_level"] is None and "declared_rank" in values:
            missing["declared_rank"] = values["declared_rank"]
        if missing:
            await _update(session, K, cadre_id, {"updated_at": utcnow(), **missing})


async def _cadre_registered(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    await put_cadre(session, uuid.UUID(data["id"]), cadre_values(data), sequence)


async def _cadre_updated(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    cadre_id = uuid.UUID(data["id"])
    values = cadre_values(data.get("changes") or {})
    row = await _get(session, K, cadre_id)
    if row is None:
        await _insert(session, K, {"id": cadre_id, "sequence": sequence, "updated_at": utcnow(), **values})
    elif sequence > row["sequence"]:
        await _update(session, K, cadre_id, {"sequence": sequence, "updated_at": utcnow(), **values})


async def _post_defined(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    post_id = uuid.UUID(data["id"])
    level = (data.get("requirements") or {}).get("theory_level")
    values = {
        "org_id": uuid.UUID(data["org_id"]),
        "title": data["title"],
        "category": data["category"],
        "seats": int(data.get("seats") or 1),
        "required_theory_level": level,
        "required_rank": theory_rank(level) if level else None,
    }
    row = await _get(session, T, post_id)
    if row is None:
        values["org_path"] = await org_path(session, values["org_id"])
        await _insert(session, T, {"id": post_id, "sequence": sequence, "updated_at": utcnow(), **values})
    elif sequence > row["sequence"]:
        if row["org_id"] != values["org_id"] or row["org_path"] is None:
            values["org_path"] = await org_path(session, values["org_id"])
        await _update(session, T, post_id, {"sequence": sequence, "updated_at": utcnow(), **values})


def _links(data: dict[str, Any]) -> dict[str, Any]:
    return {"cadre_id": uuid.UUID(data["cadre_id"]), "post_id": uuid.UUID(data["post_id"])}


async def _assignment(session: AsyncSession, data: dict[str, Any], sequence: int, *, started: bool) -> None:
    assignment_id = uuid.UUID(data["id"])
    links = {
        **_links(data),
        "org_id": uuid.UUID(data["org_id"]),
        "term_ends_on": _day(data.get("term_ends_on")),
    }
    row = await _get(session, A, assignment_id)
    if started:
        values = {**links, "starts_on": _day(data["starts_on"])}
        if row is None:
            await _insert(
                session, A, {"id": assignment_id, "sequence": sequence, "updated_at": utcnow(), **values}
            )
        elif row["starts_on"] is None:  # its end came first
            values.pop("term_ends_on")
            await _update(
                session,
                A,
                assignment_id,
                {"sequence": max(sequence, row["sequence"]), "updated_at": utcnow(), **values},
            )
        return
    values = {**links, "ends_on": _day(data["ends_on"]), "ended_sequence": sequence}
    if row is None:
        await _insert(
            session, A, {"id": assignment_id, "sequence": sequence, "updated_at": utcnow(), **values}
        )
    elif sequence > row["ended_sequence"]:
        await _update(
            session,
            A,
            assignment_id,
            {"sequence": max(sequence, row["sequence"]), "updated_at": utcnow(), **values},
        )


async def _plan(session: AsyncSession, data: dict[str, Any], sequence: int, *, added: bool) -> None:
    plan_id = uuid.UUID(data["id"])
    values = {**_links(data), "term": data["term"]}
    values["added_on" if added else "removed_on"] = _day(data["on"])
    row = await _get(session, L, plan_id)
    if row is None:
        await _insert(session, L, {"id": plan_id, "sequence": sequence, "updated_at": utcnow(), **values})
        return
    stale = row["added_on"] is not None if added else sequence <= row["sequence"]
    if not stale:
        await _update(
            session,
            L,
            plan_id,
            {"sequence": max(sequence, row["sequence"]), "updated_at": utcnow(), **values},
        )


async def apply_cadres_event(session: AsyncSession, event: CloudEvent) -> None:
    """Dispatch one of cadres' events; others (personnel actions, payroll) are ignored."""
    name = event.type.removeprefix(PREFIX).removesuffix(".v1")
    data: dict[str, Any] = event.data or {}
    sequence = event.sequence or 0
    # A malformed event raises: it is retried, then dead-lettered where operators see it.
    if name == "cadre.registered":
        await _cadre_registered(session, data, sequence)
    elif name == "cadre.updated":
        await _cadre_updated(session, data, sequence)
    elif name == "post.defined":
        await _post_defined(session, data, sequence)
    elif name in ("assignment.started", "assignment.ended"):
        await _assignment(session, data, sequence, started=name == "assignment.started")
    elif name in ("plan.added", "plan.removed"):
        await _plan(session, data, sequence, added=name == "plan.added")
    else:
        log.info("ignoring %s", event.type)
