"""``GET /api/v1/cadres/{id}/profile``: a cadre with everything the services know about them.

One call per service where it can be: the cadre's dossier (cadres: the cadre, with the assignments and plan
entries in force on ``as_of``) is the main part; in parallel with it, the cadre's training (training:
qualifications, enrollments, training needs). Chained on the dossier, in parallel: the member record
summary (orgs: ``/v1/members/{id}/summary``, which never answers a personal or sensitive field, so no
sensitive read is made or audited for the profile) and the paths of the assignments' organizations (orgs:
``/v1/organizations/paths``, one call for all of them). Nothing from vetting, ever; of the member record only
``status``, ``admitted_on``, ``recognized_on`` and the organization, whatever the caller's role.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated

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
    day = query(as_of=as_of)

    dossier_call = c.spawn(
        c.call("cadres", f"/v1/cadres/{cadre_id}/dossier{day}", part="cadre", deadline=main)
    )
    training_call = c.spawn(
        c.call("training", f"/v1/cadres/{cadre_id}/training{day}", part="training", deadline=part)
    )

    async def from_orgs() -> tuple[Answer | None, Answer | None]:
        """The member summary and the assignments' paths, both asked as soon as the dossier is in."""
        answer = await dossier_call
        if not answer.ok:
            return None, None
        dossier = answer.json()
        member_id = dossier["cadre"].get("member_id")
        org_ids = list(dict.fromkeys(str(item["org_id"]) for item in dossier["assignments"]))
        calls = []
        if member_id:
            summary = f"/v1/members/{member_id}/summary{day}"
            calls.append(c.call("orgs", summary, part="member", deadline=part))
        if org_ids:
            paths = "/v1/organizations/paths" + query(id=org_ids, as_of=as_of)
            calls.append(c.call("orgs", paths, part="assignments", deadline=part))
        found = list(await asyncio.gather(*calls))
        return (found.pop(0) if member_id else None), (found.pop(0) if org_ids else None)

    orgs_chain = c.spawn(from_orgs())
    dossier = c.main(await dossier_call)
    cadre = CadreView.model_validate(dossier["cadre"])
    (member_answer, paths_answer), training_answer = await asyncio.gather(orgs_chain, training_call)

    found_paths = c.optional(paths_answer)
    paths = {str(item["id"]): item["path"] for item in found_paths["items"]} if found_paths else {}
    assignments = []
    for item in dossier["assignments"]:
        path = paths.get(str(item["org_id"]))
        org_path = [org_ref(o) for o in path] if path is not None else None
        assignments.append(ProfileAssignment.model_validate({**item, "org_path": org_path}))
    plans = [ProfilePlan.model_validate(item) for item in dossier["plans"]]

    member_summary = None
    if (summary := c.optional(member_answer)) is not None:
        member_summary = MemberSummary(
            status=summary["status"],
            admitted_on=summary["admitted_on"],
            recognized_on=summary["recognized_on"],
            organization=org_ref(summary["organization"])
            if summary["organization"] is not None
            else OrgRef(id=summary["org_id"]),
        )

    parts = ("qualifications", "enrollments", "training_needs")
    qualifications = enrollments = needs = None
    if (training := c.optional_parts(training_answer, parts)) is not None:
        qualifications = c.parsed_field(
            training_answer, training.get("qualifications"), "qualifications", Qualifications.model_validate
        )
        enrollments = c.parsed_field(
            training_answer,
            training.get("enrollments"),
            "enrollments",
            lambda items: [ProfileEnrollment.model_validate(e) for e in items],
        )
        needs = c.parsed_field(
            training_answer,
            training.get("training_needs"),
            "training_needs",
            lambda items: [ProfileTrainingNeed.model_validate(n) for n in items],
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
