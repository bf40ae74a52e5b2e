"""``GET /api/v1/cadres/{id}/profile``: a cadre with everything the services know about them.

The cadre (cadres) is the main part; in parallel with it: assignments and plans (cadres), qualifications,
enrollments and training needs (training). Chained on the cadre: the member record summary (orgs: the members
list filtered by ``id``, which never carries a sensitive field, so no sensitive read is made or audited for
the profile), then the name of the member's organization; chained on the assignments: the path of each
assignment's organization (orgs, bounded concurrency). Nothing from vetting, ever; of the member record only
``status``, ``admitted_on``, ``recognized_on`` and the organization, whatever the caller's role.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.composition.calls import Answer, Composer, PartError, query
from gateway.composition.common import OrgRef, org_ref
from gateway.composition.training import ProfileEnrollment, ProfileTrainingNeed, Qualifications

router = APIRouter()


# --- the answer -------------------------------------------------------------------------------------------


class CadreView(BaseModel):
    """The cadre as the cadres service answers the caller (``national_id`` only for roles allowed)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    full_name: str
    birth_date: dt.date
    gender: str
    org_id: uuid.UUID = Field(description="the home organization")
    org_name: str | None = None
    education: str
    declared_theory_level: str
    member_id: uuid.UUID | None = None
    status: str
    national_id: str | None = Field(default=None, description="sensitive: null unless your role may read it")
    version: int


class PostBrief(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    title: str
    category: str


class ProfileAssignment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    post: PostBrief
    org_id: uuid.UUID
    org_name: str | None = None
    org_path: list[OrgRef] | None = Field(
        default=None,
        description="the organization and its ancestors, from the root down (null if orgs failed)",
    )
    kind: str = Field(description="the kind of the personnel action that started it")
    starts_on: dt.date
    ends_on: dt.date | None = None
    term_ends_on: dt.date | None = None


class ProfilePlan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    post_id: uuid.UUID
    term: str
    added_on: dt.date
    removed_on: dt.date | None = None


class MemberSummary(BaseModel):
    """The Party member record, reduced to what a profile shows (no personal or sensitive field)."""

    status: str
    admitted_on: dt.date
    recognized_on: dt.date | None
    organization: OrgRef


class Profile(BaseModel):
    cadre: CadreView
    assignments: list[ProfileAssignment] | None = Field(description="in force on as_of (cadres, orgs)")
    plans: list[ProfilePlan] | None = Field(description="succession-plan entries in force on as_of (cadres)")
    member: MemberSummary | None = Field(description="null when not a member, not visible, or orgs failed")
    qualifications: Qualifications | None = Field(
        description="training: the attained theory level on as_of and how it was reached"
    )
    enrollments: list[ProfileEnrollment] | None = Field(
        description="training: the cadre's enrollments, by sent_on"
    )
    training_needs: list[ProfileTrainingNeed] | None = Field(
        description="training: posts held or planned on as_of whose theory level the cadre has not attained "
        "(at most one item: the cadre's)"
    )


class ProfileAnswer(BaseModel):
    data: Profile
    partial: bool
    errors: list[PartError]


# --- the view ---------------------------------------------------------------------------------------------

LIST = 500  # one page is plenty for one cadre's records


@router.get(
    "/api/v1/cadres/{cadre_id}/profile",
    response_model=ProfileAnswer,
    operation_id="get_cadre_profile",
    tags=["composed"],
    summary="A cadre's profile: cadres, orgs and training in one answer",
    responses={502: {"description": "cadres failed"}, 504: {"description": "cadres did not answer in time"}},
)
async def profile(
    request: Request,
    cadre_id: Annotated[uuid.UUID, Path()],
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> Response:
    c = Composer(request, "profile")
    main, part = c.settings.gateway_main_deadline, c.settings.gateway_part_deadline
    day = as_of.isoformat() if as_of else None
    base = f"/v1/cadres/{cadre_id}"

    cadre_call = c.spawn(c.call("cadres", base, part="cadre", deadline=main))
    assignments_call = c.spawn(
        c.call(
            "cadres", f"{base}/assignments{query(as_of=day, limit=LIST)}", part="assignments", deadline=part
        )
    )
    plans_call = c.spawn(
        c.call(
            "cadres",
            "/v1/plans" + query(cadre_id=cadre_id, as_of=day, limit=LIST),
            part="plans",
            deadline=part,
        )
    )
    qualifications_call = c.spawn(
        c.call("training", f"{base}/qualifications{query(as_of=day)}", part="qualifications", deadline=part)
    )
    enrollments_call = c.spawn(
        c.call(
            "training",
            "/v1/enrollments" + query(cadre_id=cadre_id, limit=LIST),
            part="enrollments",
            deadline=part,
        )
    )
    needs_call = c.spawn(
        c.call(
            "training",
            "/v1/training-needs" + query(cadre_id=cadre_id, as_of=day, limit=LIST),
            part="training_needs",
            deadline=part,
        )
    )

    async def member() -> tuple[Answer, dict[str, Any] | None, Answer | None] | None:
        # The members list, filtered by id, not GET /v1/members/{id}: the list never carries the sensitive
        # fields, so an admin's profile makes orgs neither read them nor audit a sensitive read.
        answer = await cadre_call
        member_id = answer.json().get("member_id") if answer.ok else None
        if not member_id:
            return None
        listed = await c.call(
            "orgs",
            "/v1/members" + query(id=member_id, status="all", as_of=day, limit=1),
            part="member",
            deadline=part,
        )
        items = listed.json()["items"] if listed.ok else []
        if not items:  # not a member on as_of, or outside the caller's scope: no summary, not an error
            return listed, None, None
        record = items[0]
        org = await c.call(
            "orgs", f"/v1/organizations/{record['org_id']}{query(as_of=day)}", part="member", deadline=part
        )
        return listed, record, org

    async def paths() -> tuple[Answer, dict[str, Answer]]:
        answer = await assignments_call
        if not answer.ok:
            return answer, {}
        org_ids = list(dict.fromkeys(str(item["org_id"]) for item in answer.json()["items"]))
        found = await c.bounded(
            org_ids,
            lambda org_id: c.call(
                "orgs",
                f"/v1/organizations/{org_id}/ancestors{query(as_of=day)}",
                part="assignments",
                deadline=part,
            ),
        )
        return answer, dict(zip(org_ids, found, strict=True))

    member_chain = c.spawn(member())
    paths_chain = c.spawn(paths())

    cadre = CadreView.model_validate(c.main(await cadre_call))
    (assignments_answer, ancestors), plans_answer, member_answers, *training = await asyncio.gather(
        paths_chain, plans_call, member_chain, qualifications_call, enrollments_call, needs_call
    )

    assignments = None
    if (found := c.optional(assignments_answer)) is not None:
        assignments = []
        for item in found["items"]:
            path = c.optional(ancestors.get(str(item["org_id"])))
            org_path = [org_ref(o) for o in path["items"]] if path is not None else None
            assignments.append(ProfileAssignment.model_validate({**item, "org_path": org_path}))

    plans = None
    if (found := c.optional(plans_answer)) is not None:
        plans = [ProfilePlan.model_validate(item) for item in found["items"]]

    member_summary = None
    if member_answers is not None:
        listed_answer, record, org_answer = member_answers
        c.optional(listed_answer)  # records the error, if any
        if record is not None:
            org = c.optional(org_answer)
            member_summary = MemberSummary(
                status=record["status"],
                admitted_on=record["admitted_on"],
                recognized_on=record.get("recognized_on"),
                organization=org_ref(org) if org is not None else OrgRef(id=record["org_id"]),
            )

    qualifications_answer, enrollments_answer, needs_answer = training
    qualifications = c.parsed(qualifications_answer, Qualifications.model_validate)
    enrollments = c.parsed(
        enrollments_answer, lambda page: [ProfileEnrollment.model_validate(e) for e in page["items"]]
    )
    needs = c.parsed(
        needs_answer, lambda page: [ProfileTrainingNeed.model_validate(n) for n in page["items"]]
    )

    data = Profile(
        cadre=cadre,
        assignments=assignments,
        plans=plans,
        member=member_summary,
        qualifications=qualifications,
        enrollments=enrollments,
        training_needs=needs,
    )
    return c.respond(ProfileAnswer(data=data, partial=c.partial, errors=c.errors))
