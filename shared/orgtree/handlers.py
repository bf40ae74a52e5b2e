"""Apply ``orgs.organization.*`` events to the projection (in a durable consumer such as ``cadres__orgs``).

Each runs in the consumer's transaction with the inbox row, so an event is applied once. Events of one
organization carry increasing ``sequence``; a stale one (not newer than what is stored) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.cloudevents import CloudEvent
from shared.orgtree import repository as repo

log = logging.getLogger("tochuc.orgtree")

ORG_EVENTS = "tochuc.orgs.organization.>"


class ParentUnknown(RuntimeError):
    """An organization whose parent is not in the projection yet: retried, then dead-lettered."""


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


async def apply_org_event(session: AsyncSession, event: CloudEvent) -> None:
    name = event.type.removeprefix("vn.tochuc.orgs.organization.").removesuffix(".v1")
    data: dict[str, Any] = event.data or {}
    handler = _HANDLERS.get(name)
    if handler is None:
        log.info("ignoring %s", event.type)  # e.g. rated: nothing the projection keeps
        return
    await handler(session, data, event.sequence or 0)


async def _established(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    org_id = uuid.UUID(data["id"])
    values = {
        "code": data["code"], "name": data["name"], "level": data["level"], "kind": data["kind"],
        "tags": repo.tags_text(data.get("tags") or []), "parent_id": _uuid(data.get("parent_id")),
        "established_on": dt.date.fromisoformat(data["established_on"]), "status": "active",
    }  # fmt: skip
    existing = await repo.by_id(session, org_id)
    if existing is not None:  # looked up over HTTP before its event arrived
        if sequence > existing["sequence"]:
            await repo.update_org(session, org_id, sequence=sequence, **values)
        return
    parent_path = None
    if values["parent_id"] is not None:
        parent = await repo.by_id(session, values["parent_id"])
        if parent is None:
            raise ParentUnknown(f"parent {values['parent_id']} of {org_id} is not in the projection yet")
        parent_path = parent["path"]
    await repo.insert_org(
        session, parent_path=parent_path, values={"id": org_id, "sequence": sequence, **values}
    )


async def _current(session: AsyncSession, data: dict[str, Any], key: str, sequence: int) -> Any:
    row = await repo.by_id(session, uuid.UUID(data[key]))
    if row is None:
        raise ParentUnknown(f"organization {data[key]} is not in the projection yet")
    return row if sequence > row["sequence"] else None


async def _amended(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    row = await _current(session, data, "id", sequence)
    if row is None:
        return
    changes = data.get("changes") or {}
    values: dict[str, Any] = {k: changes[k] for k in ("name", "kind", "level") if k in changes}
    if "tags" in changes:
        values["tags"] = repo.tags_text(changes["tags"] or [])
    await repo.update_org(session, row["id"], sequence=sequence, **values)


async def _moved(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    row = await _current(session, data, "id", sequence)
    if row is None:
        return
    new_parent = await repo.by_id(session, uuid.UUID(data["to_parent_id"]))
    if new_parent is None:
        raise ParentUnknown(f"new parent {data['to_parent_id']} is not in the projection yet")
    await repo.rehome(session, row, new_parent)
    await repo.update_org(session, row["id"], sequence=sequence)


async def _merged(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    target = await repo.by_id(session, uuid.UUID(data["target_id"]))
    if target is not None and sequence > target["sequence"]:
        await repo.update_org(session, target["id"], sequence=sequence)
    ended = dt.date.fromisoformat(data["effective_on"])
    for source_id in data["source_ids"]:
        await repo.update_org(
            session,
            uuid.UUID(source_id),
            status="merged",
            ended_on=ended,
            merged_into_id=uuid.UUID(data["target_id"]),
        )


async def _dissolved(session: AsyncSession, data: dict[str, Any], sequence: int) -> None:
    row = await _current(session, data, "id", sequence)
    if row is None:
        return
    await repo.update_org(
        session,
        row["id"],
        sequence=sequence,
        status="dissolved",
        ended_on=dt.date.fromisoformat(data["effective_on"]),
    )


_HANDLERS = {
    "established": _established,
    "amended": _amended,
    "moved": _moved,
    "merged": _merged,
    "dissolved": _dissolved,
}
