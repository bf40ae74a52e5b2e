"""Organizations a service has not seen yet: looked up once from orgs over HTTP before an id is refused.

Events keep the projection current, but a client may create an organization in orgs and, a moment later, a
cadre in it — before ``orgs.organization.established`` reached cadres. Then the organization and its
ancestors are fetched from orgs (``GET /v1/organizations/{id}/ancestors``) and put in the projection with
their versions, so the events that follow apply on top (or are ignored as stale).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import service_token
from shared.logs import request_id_var
from shared.orgtree import repository as repo
from shared.problems import Problem, Unprocessable
from shared.settings import CommonSettings

log = logging.getLogger("tochuc.orgtree")


class OrgDirectory:
    """The HTTP client to orgs (one pooled client, owned by the app's lifespan)."""

    def __init__(self, settings: CommonSettings, *, caller: str, timeout: float = 3.0) -> None:
        self.settings = settings
        self.caller = caller  # the service asking: the subject of its service tokens
        self.client = httpx.AsyncClient(base_url=settings.service_url("orgs"), timeout=timeout)

    async def ancestors(self, org_id: uuid.UUID, *, caller_token: str) -> list[dict[str, Any]] | None:
        """The organization and its ancestors from the root down, or None if orgs does not know it."""
        token = service_token(self.settings, sub=self.caller) or caller_token
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id_var.get() or ""}
        try:
            response = await self.client.get(f"/v1/organizations/{org_id}/ancestors", headers=headers)
        except httpx.HTTPError as exc:
            raise Problem(
                503,
                "The organization registry (orgs) cannot be reached to check the organization.",
                slug="dependency-unavailable",
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Problem(
                503,
                f"orgs answered {response.status_code} when asked about organization {org_id}.",
                slug="dependency-unavailable",
            )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def aclose(self) -> None:
        await self.client.aclose()


async def require_org(session: AsyncSession, request: Request, org_id: uuid.UUID) -> RowMapping:
    """The projected organization, looked up from orgs if unseen; 422 if orgs does not know it either."""
    row = await repo.by_id(session, org_id)
    if row is not None:
        return row
    directory: OrgDirectory = request.app.state.org_directory
    caller = request.headers.get("authorization", "").partition(" ")[2]
    items = await directory.ancestors(org_id, caller_token=caller)
    if not items or items[-1]["id"] != str(org_id):
        raise Unprocessable(f"No organization {org_id}.", slug="unknown-organization")
    parent_path: str | None = None
    for item in items:
        known = await repo.by_id(session, uuid.UUID(item["id"]))
        if known is None:
            values = {
                "id": uuid.UUID(item["id"]), "code": item["code"], "name": item["name"],
                "level": item["level"], "kind": item["kind"], "tags": repo.tags_text(item.get("tags") or []),
                "parent_id": uuid.UUID(item["parent_id"]) if item.get("parent_id") else None,
                "established_on": dt.date.fromisoformat(item["established_on"]), "status": item["status"],
                "sequence": int(item["version"]),
            }  # fmt: skip
            try:
                async with session.begin_nested():  # the consumer may insert it at the same moment
                    await repo.insert_org(session, parent_path=parent_path, values=values)
                log.info("organization %s looked up from orgs", item["id"])
            except IntegrityError:
                pass  # inserted by the consumer meanwhile: theirs stands
            known = await repo.by_id(session, uuid.UUID(item["id"]))
        assert known is not None
        parent_path = known["path"]
    found = await repo.by_id(session, org_id)
    assert found is not None
    return found
