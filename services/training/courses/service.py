"""Courses: scheduled by trainers, readable by every caller (a course belongs to no organization)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.courses import repository as repo
from services.training.courses.schemas import CourseCreate
from services.training.programmes import repository as programmes_repo
from shared.auth import Principal, require_role
from shared.outbox import record_event
from shared.problems import NotFound, Problem, Unprocessable

WRITE_ROLES = ("trainer",)


def to_read(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "programme_id": str(row["programme_id"]),
        "programme_kind": row["programme_kind"],
        "theory_level": row["theory_level"],
        "code": row["code"],
        "name": row["name"],
        "provider": row["provider"],
        "mode": row["mode"],
        "starts_on": row["starts_on"].isoformat(),
        "ends_on": row["ends_on"].isoformat(),
        "capacity": row["capacity"],
        "enrolled": row["enrolled"],
        "target_group": row["target_group"],
        "version": row["version"],
    }


async def get(session: AsyncSession, course_id: uuid.UUID) -> RowMapping:
    row = await repo.get(session, course_id)
    if row is None:
        raise NotFound("course", f"No course {course_id}.")
    return row


async def schedule(session: AsyncSession, principal: Principal, body: CourseCreate) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="schedule courses")
    programme = await programmes_repo.get(session, body.programme_id)
    if programme is None:
        raise Unprocessable(f"No programme {body.programme_id}.", slug="unknown-programme")
    if await repo.by_code(session, body.code) is not None:
        raise Problem(409, f"A course with code {body.code} exists.", slug="duplicate-code")
    course_id = uuid.uuid4()
    row = await repo.insert_course(
        session,
        id=course_id,
        programme_id=body.programme_id,
        code=body.code,
        name=body.name,
        provider=body.provider,
        mode=body.mode.value,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        capacity=body.capacity,
        enrolled=0,
        target_group=body.target_group,
        version=1,
    )
    await record_event(
        session,
        service="training",
        type="training.course.scheduled.v1",
        subject=str(course_id),
        sequence=1,
        data={
            "id": str(course_id),
            "programme_id": str(body.programme_id),
            "programme_kind": programme["kind"],
            "theory_level": programme["theory_level"],
            "code": body.code,
            "starts_on": body.starts_on.isoformat(),
            "ends_on": body.ends_on.isoformat(),
            "capacity": body.capacity,
        },
    )
    # as ``get`` reads it: the course's row with its programme's kind and level
    return to_read({**row, "programme_kind": programme["kind"], "theory_level": programme["theory_level"]})
