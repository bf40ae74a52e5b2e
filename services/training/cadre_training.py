"""``GET /v1/cadres/{cadre_id}/training``: a cadre's qualifications, enrollments and training needs on a day.

One read for what a cadre's profile needs from this service (the gateway's composed profile makes one call
here instead of three), each part as its own endpoint answers it: the attained theory level and how it was
reached (``GET /v1/cadres/{id}/qualifications``), the cadre's enrollments sent by organizations in your scope
(``GET /v1/enrollments?cadre_id=``) and the cadre's training need, if any
(``GET /v1/training-needs?cadre_id=``). 404 for a cadre outside your scope. Enrollments are capped at
:data:`MAX_ITEMS` (a career holds a few dozen at most) and the answer says whether more were left out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.training.enrollments import repository as enrollments_repo
from services.training.enrollments import service as enrollments_service
from services.training.enrollments.schemas import EnrollmentRead
from services.training.needs import repository as needs_repo
from services.training.needs.router import Need, to_items
from services.training.qualifications import service as qualifications_service
from services.training.qualifications.router import QualificationsRead
from shared.auth import CurrentPrincipal
from shared.orgtree.scope import scope_path
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["qualifications"], route_class=UnitOfWorkRoute)

MAX_ITEMS = 500


class CadreTraining(BaseModel):
    qualifications: QualificationsRead
    enrollments: list[EnrollmentRead] = Field(
        description="sent by organizations in your scope, by sent_on (then id)"
    )
    enrollments_truncated: bool = Field(description=f"more than {MAX_ITEMS} enrollments: the rest left out")
    training_needs: list[Need] = Field(
        description="at most one item: the cadre, when on as_of they hold or are planned for a post (in your "
        "scope) whose required theory level is above the level they attained"
    )


@router.get(
    "/v1/cadres/{cadre_id}/training",
    response_model=CadreTraining,
    operation_id="get_cadre_training",
    summary="A cadre's qualifications, enrollments and training needs in one answer",
)
async def get_cadre_training(
    cadre_id: Annotated[uuid.UUID, Path()],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> dict[str, Any]:
    day = as_of or dt.date.today()
    qualifications = await qualifications_service.qualifications(session, request, principal, cadre_id, day)
    scope = await scope_path(session, principal)
    enrollments = await enrollments_repo.enrollments_of_cadre(
        session, cadre_id, scope_path=scope, limit=MAX_ITEMS
    )
    needs = await needs_repo.page(
        session,
        day=day,
        paths=[scope] if scope is not None else [],
        post_category=None,
        cadre_id=cadre_id,
        after=None,
        limit=1,
    )
    return {
        "qualifications": qualifications,
        "enrollments": [enrollments_service.to_read(r) for r in enrollments[:MAX_ITEMS]],
        "enrollments_truncated": len(enrollments) > MAX_ITEMS,
        "training_needs": to_items(needs)[0],
    }
