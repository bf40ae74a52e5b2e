"""``GET /v1/cadres/{cadre_id}/dossier``: the cadre with the assignments and plan entries in force on a day.

One read for what a cadre's profile needs from this service (the gateway's composed profile makes one call
here instead of three): the cadre as ``GET /v1/cadres/{id}`` answers it (``national_id`` only for the roles
allowed, and each such read audited the same way), the assignments as ``GET /v1/cadres/{id}/assignments``
lists them, and the plan entries as ``GET /v1/plans?cadre_id=`` lists them (the caller's scope applies to the
post's organization). A career holds a handful of rows in force on any day; both lists are capped at
:data:`MAX_ITEMS` and say whether more were left out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.cadres.cadres import service as cadres_service
from services.cadres.cadres.router import audit_sensitive_read
from services.cadres.cadres.schemas import CadreRead
from services.cadres.personnel import repository as personnel_repo
from services.cadres.personnel import service as personnel_service
from services.cadres.personnel.schemas import AssignmentRead
from services.cadres.planning import repository as planning_repo
from services.cadres.planning import service as planning_service
from services.cadres.planning.schemas import PlanRead
from shared.auth import CurrentPrincipal
from shared.orgtree.scope import scope_path
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["cadres"], route_class=UnitOfWorkRoute)

MAX_ITEMS = 500


class CadreDossier(BaseModel):
    cadre: CadreRead
    as_of: dt.date
    assignments: list[AssignmentRead] = Field(description="in force on as_of, by start date")
    assignments_truncated: bool = Field(description=f"more than {MAX_ITEMS} assignments: the rest left out")
    plans: list[PlanRead] = Field(
        description="succession-plan entries in force on as_of whose post is in your scope, by term, then "
        "the day they were added"
    )
    plans_truncated: bool = Field(description=f"more than {MAX_ITEMS} plan entries: the rest left out")


@router.get(
    "/v1/cadres/{cadre_id}/dossier",
    response_model=CadreDossier,
    operation_id="get_cadre_dossier",
    summary="A cadre with their assignments and plan entries in force on a day",
)
async def get_dossier(
    cadre_id: Annotated[uuid.UUID, Path(description="cadre id")],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> dict[str, Any]:
    """404 for a cadre outside your scope. ``national_id`` only for admin, vetting and personnel, and each
    such read is audited, as for ``GET /v1/cadres/{id}``."""
    day = as_of or dt.date.today()
    cadre, sensitive = await cadres_service.get(session, principal, cadre_id)
    assignments = await personnel_repo.assignments_in_force(session, cadre_id, day, limit=MAX_ITEMS)
    plans = await planning_repo.plans_of_cadre(
        session, cadre_id, day, scope_path=await scope_path(session, principal), limit=MAX_ITEMS
    )
    if sensitive:
        await audit_sensitive_read(request, principal, cadre_id)
    return {
        "cadre": cadre,
        "as_of": day,
        "assignments": [personnel_service.assignment_read(r) for r in assignments[:MAX_ITEMS]],
        "assignments_truncated": len(assignments) > MAX_ITEMS,
        "plans": [planning_service.to_read(r) for r in plans[:MAX_ITEMS]],
        "plans_truncated": len(plans) > MAX_ITEMS,
    }
