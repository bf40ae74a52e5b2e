"""Cadres training has not seen yet: looked up once from cadres over HTTP before an id is refused.

As with organizations (``shared.orgtree.directory``): a client may register a cadre in cadres and, a moment
later, send them to a course — before ``cadres.cadre.registered`` reached training. Then the cadre is fetched
from cadres (``GET /v1/cadres/{id}``, with a service token of subject ``training``, else the caller's own
token) and put in the projection with its version as sequence, so the events that follow apply on top (or
are ignored as stale). Only cadres' public fields are kept (the national id is never asked for or stored).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy import bindparam, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.projections.handlers import cadre_values, put_cadre
from services.training.projections.models import ProjectedCadre
from shared.auth import Principal, service_token
from shared.logs import request_id_var
from shared.orgtree import repository as orgtree_repo
from shared.orgtree.scope import within
from shared.problems import Problem, Unprocessable
from shared.settings import CommonSettings

log = logging.getLogger("tochuc.training.projections")
K = ProjectedCadre.__table__
# Built once: every enrollment and completion reads its cadre (building costs more than running it).
CADRE_OF_ID = select(K).where(K.c.id == bindparam("cadre_id"))
LOOKED_UP = (
    "org_id",
    "member_id",
    "full_name",
    "gender",
    "birth_date",
    "education",
    "declared_theory_level",
    "status",
)


class CadreDirectory:
    """The HTTP client to cadres (one pooled client, owned by the app's lifespan)."""

    def __init__(self, settings: CommonSettings, *, caller: str = "training", timeout: float = 3.0) -> None:
        self.settings = settings
        self.caller = caller
        self.client = httpx.AsyncClient(base_url=settings.service_url("cadres"), timeout=timeout)

    async def cadre(self, cadre_id: uuid.UUID, *, caller_token: str) -> dict[str, Any] | None:
        """Cadres' answer for the cadre, or None if cadres does not know it (or does not show it)."""
        token = service_token(self.settings, sub=self.caller) or caller_token
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id_var.get() or ""}
        try:
            response = await self.client.get(f"/v1/cadres/{cadre_id}", headers=headers)
        except httpx.HTTPError as exc:
            raise Problem(
                503,
                "The cadre registry (cadres) cannot be reached to check the cadre.",
                slug="dependency-unavailable",
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Problem(
                503,
                f"cadres answered {response.status_code} when asked about cadre {cadre_id}.",
                slug="dependency-unavailable",
            )
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self.client.aclose()


async def projected_cadre(session: AsyncSession, cadre_id: uuid.UUID) -> RowMapping | None:
    """The cadre's row when its registration is known (a partial row from an early update is not)."""
    row = (await session.execute(CADRE_OF_ID, {"cadre_id": cadre_id})).mappings().first()
    return row if row is not None and row["full_name"] is not None else None


async def find_cadre(session: AsyncSession, request: Request, cadre_id: uuid.UUID) -> RowMapping | None:
    """The projected cadre, looked up from cadres if unseen; None if cadres does not know it either."""
    row = await projected_cadre(session, cadre_id)
    if row is not None:
        return row
    directory: CadreDirectory = request.app.state.cadre_directory
    caller = request.headers.get("authorization", "").partition(" ")[2]
    found = await directory.cadre(cadre_id, caller_token=caller)
    if found is None or found.get("id") != str(cadre_id):
        return None
    values = cadre_values({k: found.get(k) for k in LOOKED_UP})
    try:
        async with session.begin_nested():  # the consumer may insert it at the same moment
            await put_cadre(session, cadre_id, values, int(found.get("version") or 1))
        log.info("cadre %s looked up from cadres", cadre_id)
    except IntegrityError:
        pass  # inserted by the consumer meanwhile: theirs stands
    return await projected_cadre(session, cadre_id)


async def require_cadre(session: AsyncSession, request: Request, cadre_id: uuid.UUID) -> RowMapping:
    """The cadre a request names, or 422 ``unknown-cadre``."""
    row = await find_cadre(session, request, cadre_id)
    if row is None:
        raise Unprocessable(f"No cadre {cadre_id}.", slug="unknown-cadre")
    return row


async def visible_cadre(
    session: AsyncSession, request: Request, principal: Principal, cadre_id: uuid.UUID, *, scope: str | None
) -> RowMapping | None:
    """The cadre if it exists and its home organization lies in ``scope`` (the caller's subtree), else None.

    A cadre whose home organization training has not seen is visible only to callers scoped to the whole
    province."""
    row = await find_cadre(session, request, cadre_id)
    if row is None or scope is None:
        return row
    org = await orgtree_repo.by_id(session, row["org_id"]) if row["org_id"] else None
    return row if org is not None and within(org["path"], scope) else None
