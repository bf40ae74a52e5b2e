"""``GET /v1/cadres/{cadre_id}/qualifications``: a cadre's attained theory level and how it was reached."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.training.qualifications import service
from shared.auth import CurrentPrincipal
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(tags=["qualifications"], route_class=UnitOfWorkRoute)


class AttainedLevel(StrEnum):
    none = "none"
    elementary = "elementary"
    intermediate = "intermediate"
    advanced = "advanced"
    bachelor = "bachelor"


class QualificationEntry(BaseModel):
    theory_level: AttainedLevel
    attained_on: dt.date | None = Field(description="null for the declared level")
    source: Literal["declared", "course"]
    course_id: uuid.UUID | None
    enrollment_id: uuid.UUID | None
    certificate_no: str | None


class QualificationsRead(BaseModel):
    cadre_id: uuid.UUID
    as_of: dt.date
    attained_theory_level: AttainedLevel
    history: list[QualificationEntry] = Field(description="the declared level, then completions by date")


@router.get(
    "/v1/cadres/{cadre_id}/qualifications",
    response_model=QualificationsRead,
    operation_id="get_cadre_qualifications",
)
async def get_qualifications(
    cadre_id: Annotated[uuid.UUID, Path()],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> dict[str, Any]:
    """The highest of the declared level and the political theory courses completed by ``as_of``; 404 for a
    cadre outside your scope."""
    return await service.qualifications(session, request, principal, cadre_id, as_of or dt.date.today())
