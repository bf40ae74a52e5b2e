"""Request and response models of personnel actions, assignments and appointments due."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.cadres.posts.schemas import Category
from shared.rulebook import Finding


class ActionKind(StrEnum):
    transfer = "transfer"
    rotation = "rotation"
    secondment = "secondment"
    arrangement = "arrangement"
    appointment = "appointment"
    reappointment = "reappointment"
    candidate_introduction = "candidate_introduction"
    designation = "designation"
    appointment_opinion = "appointment_opinion"
    dismissal = "dismissal"
    relief = "relief"
    resignation = "resignation"
    removal = "removal"
    retirement = "retirement"


# What each kind does to assignments (domain: Cadres, personnel actions).
MOVES = frozenset({ActionKind.transfer, ActionKind.rotation, ActionKind.secondment})  # end current, start new
TIME_LIMITED = frozenset({ActionKind.rotation, ActionKind.secondment})
STARTS = MOVES | {ActionKind.arrangement, ActionKind.appointment, ActionKind.designation}
RENEWS = frozenset({ActionKind.reappointment})
ENDS = frozenset(
    {
        ActionKind.dismissal,
        ActionKind.relief,
        ActionKind.resignation,
        ActionKind.removal,
        ActionKind.retirement,
    }
)
RECORDED_ONLY = frozenset({ActionKind.candidate_introduction, ActionKind.appointment_opinion})
NEEDS_POST = STARTS | RENEWS


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="why the committee decides despite them")


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ActionKind
    cadre_id: uuid.UUID
    post_id: uuid.UUID | None = Field(default=None, description="the target post; required to start or renew")
    from_org_id: uuid.UUID | None = None
    to_org_id: uuid.UUID | None = Field(default=None, description="defaults to the post's organization")
    decision_no: str = Field(min_length=1, max_length=100)
    decided_on: dt.date = Field(description="the day the decision was signed")
    effective_on: dt.date = Field(description="the day it takes effect (on or after decided_on)")
    ends_on: dt.date | None = Field(default=None, description="rotation and secondment: the day they end")
    note: str | None = Field(default=None, max_length=2000)
    acknowledged_findings: Acknowledgement | None = None

    @model_validator(mode="after")
    def _coherent(self) -> ActionCreate:
        self.decision_no = self.decision_no.strip()
        if not self.decision_no:
            raise ValueError("decision_no must not be blank")
        if self.effective_on < self.decided_on:
            raise ValueError("effective_on is before decided_on: a decision takes effect once it is signed")
        if self.kind in TIME_LIMITED:
            if self.ends_on is None:
                raise ValueError(f"a {self.kind.value} is time-limited: give ends_on")
            if self.ends_on <= self.effective_on:
                raise ValueError("ends_on must be after effective_on")
        elif self.ends_on is not None:
            raise ValueError(f"ends_on is for rotations and secondments, not a {self.kind.value}")
        if self.kind in NEEDS_POST and self.post_id is None:
            raise ValueError(f"a {self.kind.value} needs post_id")
        return self


class ActionRead(BaseModel):
    id: uuid.UUID
    kind: ActionKind
    cadre_id: uuid.UUID
    post_id: uuid.UUID | None
    from_org_id: uuid.UUID | None
    to_org_id: uuid.UUID | None
    decision_no: str
    decided_on: dt.date
    effective_on: dt.date
    ends_on: dt.date | None
    note: str | None
    findings: list[Finding] = Field(description="the rulebook's findings when it was recorded")
    findings_acknowledged: bool = Field(description="recorded despite error findings, with a reason")
    acknowledgement_reason: str | None
    assignments_started: list[uuid.UUID]
    assignments_ended: list[uuid.UUID]
    recorded_at: dt.datetime


class ActionResult(BaseModel):
    action: ActionRead | None = Field(description="the recorded action; null for a :check")
    findings: list[Finding]


class ActionPage(BaseModel):
    items: list[ActionRead]
    next_cursor: str | None = None


class PostBrief(BaseModel):
    id: uuid.UUID
    title: str
    category: Category


class AssignmentRead(BaseModel):
    id: uuid.UUID
    cadre_id: uuid.UUID
    post: PostBrief
    org_id: uuid.UUID
    org_name: str | None
    kind: ActionKind = Field(description="the kind of the action that started it")
    starts_on: dt.date
    ends_on: dt.date | None = Field(
        description="the first day it no longer holds (set when ended or planned)"
    )
    term_ends_on: dt.date | None = Field(description="the last day of an appointment's term")
    started_by: uuid.UUID | None
    ended_by: uuid.UUID | None


class AssignmentPage(BaseModel):
    items: list[AssignmentRead]
    next_cursor: str | None = None


class DueRead(AssignmentRead):
    notice_deadline: dt.date | None = Field(
        description="term_ends_on minus the rulebook's notice period in working days (Monday to Friday; "
        "public holidays are not taken out); null when no notice rule is in force"
    )


class DuePage(BaseModel):
    items: list[DueRead]
    next_cursor: str | None = None
