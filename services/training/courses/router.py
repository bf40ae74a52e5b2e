"""HTTP endpoints of courses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.training.courses import repository as repo
from services.training.courses import service
from services.training.courses.schemas import CourseCreate, CoursePage, CourseRead
from shared.auth import CurrentPrincipal
from shared.etag import set_etag
from shared.pagination import Cursor, Limit, decode_cursor, encode_cursor
from shared.uow import SessionDep, UnitOfWorkRoute

router = APIRouter(prefix="/v1/courses", tags=["courses"], route_class=UnitOfWorkRoute)


@router.post("", status_code=201, response_model=CourseRead, operation_id="schedule_course")
async def schedule(
    body: CourseCreate, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Schedule a course of a programme (``trainer``)."""
    read = await service.schedule(session, principal, body)
    response.headers["Location"] = f"/v1/courses/{read['id']}"
    set_etag(response, read["version"])
    return read


@router.get("", response_model=CoursePage, operation_id="list_courses")
async def list_courses(
    session: SessionDep,
    principal: CurrentPrincipal,
    programme_id: uuid.UUID | None = None,
    start: Annotated[dt.date | None, Query(alias="from", description="starting on or after")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="starting on or before")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Courses ordered by ``starts_on`` (then id), each with its ``enrolled`` count."""
    after = decode_cursor(cursor)
    rows = await repo.list_rows(
        session,
        programme_id=programme_id,
        start=start,
        end=end,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=limit,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [service.to_read(r) for r in rows],
        "next_cursor": encode_cursor([rows[-1]["starts_on"].isoformat(), str(rows[-1]["id"])])
        if more
        else None,
    }


@router.get("/{course_id}", response_model=CourseRead, operation_id="get_course")
async def get_course(
    course_id: Annotated[uuid.UUID, Path()],
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    read = service.to_read(await service.get(session, course_id))
    set_etag(response, read["version"])
    return read
