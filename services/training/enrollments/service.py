"""Enrollments: send a cadre to a course, check eligibility, complete, fail or withdraw.

Scope: an enrollment belongs to the organization that sent the cadre (``sent_by_org_id``). Trainers (and
admins) write enrollments of organizations in their subtree: a sending organization outside it is refused
(403). An enrollment whose sending organization lies outside the caller's subtree does not exist for the
caller (404). The cadre must exist (looked up once in cadres if training has not seen them) and be visible
to the caller (otherwise 422 ``unknown-cadre``, as for a cadre nobody knows).

Capacity: a seat is taken by one atomic ``UPDATE courses SET enrolled = enrolled + 1 WHERE id = :id AND
enrolled < capacity`` in the enrollment's transaction (no row: 409 ``course-full``); a withdrawal gives the
seat back; a completion or failure keeps it (the cadre took part). A cadre has at most one ``enrolled`` or
``completed`` enrollment per course (409 ``already-enrolled``; a partial unique index holds it under
concurrency).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.courses import repository as courses_repo
from services.training.enrollments import events
from services.training.enrollments import repository as repo
from services.training.enrollments.checks import Proposal, findings_for
from services.training.enrollments.schemas import Completion, EnrollmentCreate, Result, Withdrawal
from services.training.projections.directory import visible_cadre
from services.training.qualifications import service as qualifications
from shared.auth import Principal, require_role
from shared.orgtree.directory import require_org
from shared.orgtree.scope import scope_path, within
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Rulebook, rule_violation

WRITE_ROLES = ("trainer",)


def to_read(row: RowMapping) -> dict[str, Any]:
    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(row["id"]),
        "course_id": str(row["course_id"]),
        "cadre_id": str(row["cadre_id"]),
        "sent_by_org_id": str(row["sent_by_org_id"]),
        "sent_on": row["sent_on"].isoformat(),
        "status": row["status"],
        "completed_on": day(row["completed_on"]),
        "certificate_no": row["certificate_no"],
        "withdrawn_on": day(row["withdrawn_on"]),
        "withdrawal_reason": row["withdrawal_reason"],
        "programme_id": str(row["programme_id"]),
        "programme_kind": row["programme_kind"],
        "theory_level": row["theory_level"],
        "findings": row["findings"] or [],
        "findings_acknowledged": row["findings_acknowledged"],
        "acknowledgement_reason": row["acknowledgement_reason"],
        "version": row["version"],
        "recorded_at": row["recorded_at"],
    }


async def _propose(
    session: AsyncSession, request: Request, principal: Principal, body: EnrollmentCreate
) -> tuple[Proposal, RowMapping]:
    """Validate the enrollment; the proposal the checks read, and the sending organization."""
    require_role(principal, *WRITE_ROLES, action="send cadres to courses")
    scope = await scope_path(session, principal)
    org = await require_org(session, request, body.sent_by_org_id)
    if not within(org["path"], scope):
        raise Problem(403, "The sending organization is outside your scope.", slug="forbidden")
    if org["status"] != "active":
        raise Unprocessable(
            f"Organization {org['code']} is no longer active.", slug="organization-not-active"
        )
    course = await courses_repo.get(session, body.course_id)
    if course is None:
        raise Unprocessable(f"No course {body.course_id}.", slug="unknown-course")
    if body.sent_on > course["ends_on"]:
        raise Unprocessable(
            f"sent_on ({body.sent_on.isoformat()}) is after the course ended "
            f"({course['ends_on'].isoformat()}).",
            slug="invalid-input",
        )
    cadre = await visible_cadre(session, request, principal, body.cadre_id, scope=scope)
    if cadre is None:
        raise Unprocessable(f"No cadre {body.cadre_id}.", slug="unknown-cadre")
    if cadre["status"] not in (None, "active"):
        raise Unprocessable(f"{cadre['full_name']} is {cadre['status']}.", slug="cadre-not-active")
    existing = await repo.open_or_completed(session, course["id"], cadre["id"])
    if existing is not None:
        raise Problem(
            409,
            f"{cadre['full_name']} already has an {existing['status']} enrollment in {course['code']}.",
            slug="already-enrolled",
            enrollment_id=str(existing["id"]),
        )
    attained = await qualifications.attained_rank(session, cadre, body.sent_on)
    return Proposal(cadre=cadre, course=course, sent_on=body.sent_on, attained_rank=attained), org


async def check(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: EnrollmentCreate
) -> dict[str, Any]:
    """The dry run: the same validation and findings as creating, and nothing written (the seat is not
    taken: a full course is only found by the real call)."""
    proposal, _ = await _propose(session, request, principal, body)
    found = await findings_for(session, rulebook, proposal)
    return {"enrollment": None, "findings": [f.model_dump() for f in found]}


async def create(
    session: AsyncSession, request: Request, principal: Principal, rulebook: Rulebook, body: EnrollmentCreate
) -> dict[str, Any]:
    proposal, _ = await _propose(session, request, principal, body)
    found = await findings_for(session, rulebook, proposal)
    errors = [f for f in found if f.severity == "error"]
    if errors and body.acknowledged_findings is None:
        raise rule_violation(
            found,
            "; ".join(f.message for f in errors)
            + " To send the cadre anyway, give acknowledged_findings with a reason.",
        )
    course = proposal.course
    if not await courses_repo.take_seat(session, course["id"]):
        raise Problem(409, f"{course['code']} is full ({course['capacity']} seats).", slug="course-full")
    enrollment = {
        "id": uuid.uuid4(),
        "course_id": course["id"],
        "cadre_id": proposal.cadre["id"],
        "sent_by_org_id": body.sent_by_org_id,
        "sent_on": body.sent_on,
        "status": "enrolled",
        "programme_id": course["programme_id"],
        "programme_kind": course["programme_kind"],
        "theory_level": course["theory_level"],
        "theory_rank": course["theory_rank"],
        "findings": [f.model_dump() for f in found],
        "findings_acknowledged": bool(errors),
        "acknowledgement_reason": body.acknowledged_findings.reason if body.acknowledged_findings else None,
        "version": 1,
        "recorded_by": principal.sub,
    }
    try:
        async with session.begin_nested():
            stored = await repo.insert_enrollment(session, **enrollment)
    except IntegrityError as exc:  # a concurrent request enrolled the same cadre first
        raise Problem(
            409,
            f"{proposal.cadre['full_name']} already has an enrollment in {course['code']}.",
            slug="already-enrolled",
        ) from exc
    await events.created(session, enrollment)
    return to_read(stored)  # as stored; its sending organization was found within the caller's scope


async def _visible(session: AsyncSession, principal: Principal, enrollment_id: uuid.UUID) -> RowMapping:
    row = await repo.get(session, enrollment_id)
    scope = await scope_path(session, principal)
    if row is None or (scope is not None and not (row["org_path"] and within(row["org_path"], scope))):
        raise NotFound("enrollment", f"No enrollment {enrollment_id}.")
    return row


async def get(session: AsyncSession, principal: Principal, enrollment_id: uuid.UUID) -> dict[str, Any]:
    return to_read(await _visible(session, principal, enrollment_id))


async def _open(
    session: AsyncSession, principal: Principal, enrollment_id: uuid.UUID, action: str
) -> RowMapping:
    row = await _visible(session, principal, enrollment_id)
    require_role(principal, *WRITE_ROLES, action=action)
    if row["status"] != "enrolled":
        raise Problem(
            409,
            f"The enrollment is {row['status']}: only an enrolled one can be closed.",
            slug="enrollment-closed",
        )
    return row


async def _closed(session: AsyncSession, row: RowMapping, **values: Any) -> RowMapping:
    """Close the (visible, open) enrollment; the row as closed."""
    closed = await repo.close(session, row["id"], row["version"], **values)
    if closed is None:
        raise Problem(409, "The enrollment changed meanwhile; read it again.", slug="enrollment-closed")
    return closed


async def complete(
    session: AsyncSession, request: Request, principal: Principal, enrollment_id: uuid.UUID, body: Completion
) -> dict[str, Any]:
    """Completion or failure; a completion of political theory may raise the attained level."""
    row = await _open(session, principal, enrollment_id, "record completions")
    if body.completed_on < row["sent_on"]:
        raise Unprocessable("completed_on is before sent_on.", slug="invalid-input")
    cadre = None
    before = 0
    theory = row["programme_kind"] == "political_theory" and row["theory_rank"]
    if body.result is Result.completed and theory:
        cadre = await visible_cadre(session, request, principal, row["cadre_id"], scope=None)
        if cadre is not None:  # attained by that day, before this completion counts
            before = await qualifications.attained_rank(session, cadre, body.completed_on)
    closed = await _closed(
        session,
        row,
        status=body.result.value,
        completed_on=body.completed_on,
        certificate_no=body.certificate_no,
    )
    await events.closed(session, body.result.value, row, on=body.completed_on, sequence=row["version"] + 1)
    if cadre is not None:
        await qualifications.record_if_raised(
            session, cadre, rank=int(row["theory_rank"]), before=before, completed_on=body.completed_on
        )
    return to_read(closed)


async def withdraw(
    session: AsyncSession, principal: Principal, enrollment_id: uuid.UUID, body: Withdrawal
) -> dict[str, Any]:
    """The cadre leaves the course: the seat is given back."""
    row = await _open(session, principal, enrollment_id, "record withdrawals")
    if body.withdrawn_on < row["sent_on"]:
        raise Unprocessable("withdrawn_on is before sent_on.", slug="invalid-input")
    closed = await _closed(
        session,
        row,
        status="withdrawn",
        withdrawn_on=body.withdrawn_on,
        withdrawal_reason=body.reason.strip(),
    )
    await courses_repo.free_seat(session, row["course_id"])
    await events.closed(session, "withdrawn", row, on=body.withdrawn_on, sequence=row["version"] + 1)
    return to_read(closed)


async def within_path_of(
    session: AsyncSession, request: Request, scope: str | None, within_org: uuid.UUID | None
) -> str | None:
    """The path of ``within`` (404 when it is outside the caller's subtree), or None."""
    if within_org is None:
        return None
    org = await require_org(session, request, within_org)
    if not within(org["path"], scope):
        raise NotFound("organization", f"No organization {within_org}.")
    return str(org["path"])
