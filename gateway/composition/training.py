"""The training service's answers as the composed views carry them: enrollments, training needs,
qualifications (profile) and training-plan progress (overview).

Defined here, not imported: the gateway never imports a service's code. They match training's OpenAPI
(``EnrollmentRead``, ``Need``/``NeedPost``, ``QualificationsRead``/``QualificationEntry``,
``TrainingPlanRead``) field for field, which ``gateway/tests/test_openapi.py`` checks against the service's
own document. The names differ from training's on purpose: the gateway's document merges training's
components, and a same-named, differently-described model would force both to be renamed.

Enumerations are ``Literal`` (inline in the schema, no shared component name). Extra fields are ignored, so
a field training adds does not break the view; a value the gateway does not know (a new enum member) makes
the part fail validation, which the view reports as that part's ``error`` (see ``Composer.parsed``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TheoryLevel = Literal["elementary", "intermediate", "advanced", "bachelor"]
AttainedLevel = Literal["none", "elementary", "intermediate", "advanced", "bachelor"]
ProgrammeKind = Literal[
    "political_theory", "fostering", "knowledge_update", "professional", "party_awareness", "new_member"
]
EnrollmentStatus = Literal["enrolled", "completed", "failed", "withdrawn"]


class _FromTraining(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TrainingFinding(_FromTraining):
    """A rule of the rulebook the enrollment broke (or came close to) when it was created."""

    rule: str
    source: str
    message: str
    severity: str = Field(description="error or warning")


class ProfileEnrollment(_FromTraining):
    """One of the cadre's enrollments (training ``GET /v1/enrollments?cadre_id=``)."""

    id: uuid.UUID
    course_id: uuid.UUID
    cadre_id: uuid.UUID
    sent_by_org_id: uuid.UUID
    sent_on: dt.date
    status: EnrollmentStatus
    completed_on: dt.date | None = Field(description="the day of the completion or the failure")
    certificate_no: str | None
    withdrawn_on: dt.date | None
    withdrawal_reason: str | None
    programme_id: uuid.UUID
    programme_kind: ProgrammeKind
    theory_level: TheoryLevel | None
    findings: list[TrainingFinding] = Field(description="the rulebook's findings when it was created")
    findings_acknowledged: bool = Field(description="created despite error findings, with a reason")
    acknowledgement_reason: str | None
    version: int
    recorded_at: dt.datetime


class TrainingNeedPost(_FromTraining):
    post_id: uuid.UUID
    title: str
    category: str
    org_id: uuid.UUID
    relation: Literal["held", "planned"]
    required_theory_level: AttainedLevel


class ProfileTrainingNeed(_FromTraining):
    """The cadre's training need (training ``GET /v1/training-needs?cadre_id=``): the posts held or planned
    whose required theory level is above the one attained."""

    cadre_id: uuid.UUID
    full_name: str
    org_id: uuid.UUID | None
    attained_theory_level: AttainedLevel
    required_theory_level: AttainedLevel = Field(description="the highest of the posts'")
    posts: list[TrainingNeedPost]


class QualificationEntry(_FromTraining):
    theory_level: AttainedLevel
    attained_on: dt.date | None = Field(description="null for the declared level")
    source: Literal["declared", "course"]
    course_id: uuid.UUID | None
    enrollment_id: uuid.UUID | None
    certificate_no: str | None


class Qualifications(_FromTraining):
    """Training ``GET /v1/cadres/{id}/qualifications``."""

    cadre_id: uuid.UUID
    as_of: dt.date
    attained_theory_level: AttainedLevel
    history: list[QualificationEntry] = Field(description="the declared level, then completions by date")


class TrainingPlanProgress(_FromTraining):
    """One organization's target for one programme that year, against the cadres it sent
    (training ``GET /v1/training-plans``)."""

    year: int
    org_id: uuid.UUID
    org_name: str | None
    programme_id: uuid.UUID
    programme_code: str
    programme_name: str
    target: int
    enrolled: int = Field(
        description="cadres (distinct) the organization sent that year to the programme, not withdrawn"
    )
    completed: int = Field(description="of those, distinct cadres who completed")
    version: int
