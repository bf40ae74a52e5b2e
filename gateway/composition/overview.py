"""``GET /api/v1/organizations/{id}/overview``: an organization at a glance.

The organization (orgs) is the main part; in parallel with it: its ancestors, stats (members by status,
organizations under it by level, threshold findings) and ratings (orgs); the posts of its subtree with their
holders and vacancies, and the payroll streamlining of its subtree (cadres); the training plans of its subtree
against their enrollments (training). Posts are counted as they stand today (the posts list has no ``as_of``);
payroll and training plans are those of the year of ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.composition.calls import Composer, PartError, query
from gateway.composition.common import OrgRef, org_ref
from gateway.composition.training import TrainingPlanProgress

router = APIRouter()
LIST = 500


class OrganizationView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    code: str
    name: str
    level: str
    kind: str
    tags: list[str]
    parent_id: uuid.UUID | None
    path: list[uuid.UUID]
    status: str
    established_on: dt.date
    dissolved_on: dt.date | None = None
    merged_into_id: uuid.UUID | None = None
    version: int


class Finding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule: str
    source: str
    message: str
    severity: str
    org_id: uuid.UUID
    org_code: str


class OrganizationStatsView(BaseModel):
    members_by_status: dict[str, int] = Field(description="members of the whole subtree, by status")
    children_by_level: dict[str, int] = Field(description="active organizations directly under it")
    descendants_by_level: dict[str, int] = Field(description="active organizations anywhere under it")
    findings: list[Finding] = Field(description="threshold rules broken in the subtree")


class LatestRating(BaseModel):
    year: int
    rating: str


class PostSummary(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str | None = None
    title: str
    category: str
    seats: int
    holders: int
    vacant: int


class Posts(BaseModel):
    posts: int
    seats: int
    holders: int
    vacant: int
    complete: bool = Field(description="false when the subtree has more posts than listed in items")
    items: list[PostSummary]


class Streamlining(BaseModel):
    model_config = ConfigDict(extra="ignore")

    baseline_year: int
    year: int
    baseline: int
    allocated: int
    rate: float | None
    target: float | None
    met: bool | None


class Payroll(BaseModel):
    civil_servant: Streamlining
    public_employee: Streamlining


class TrainingPlans(BaseModel):
    year: int
    items: list[TrainingPlanProgress] = Field(
        description="training: per organization of the subtree and programme, the target against the cadres "
        "sent and completed"
    )


class Overview(BaseModel):
    organization: OrganizationView
    ancestors: list[OrgRef] | None = Field(description="from the root down, without the organization itself")
    stats: OrganizationStatsView | None = Field(description="orgs, as of as_of")
    latest_rating: LatestRating | None = Field(description="orgs: the latest rated year up to as_of's year")
    posts: Posts | None = Field(description="cadres: posts of the subtree, as they stand today")
    payroll: Payroll | None = Field(description="cadres: streamlining of the subtree in as_of's year")
    training_plans: TrainingPlans | None = Field(
        description="training: plans of the subtree for as_of's year"
    )


class OverviewAnswer(BaseModel):
    data: Overview
    partial: bool
    errors: list[PartError]


@router.get(
    "/api/v1/organizations/{org_id}/overview",
    response_model=OverviewAnswer,
    operation_id="get_organization_overview",
    tags=["composed"],
    summary="An organization's overview: orgs, cadres and training in one answer",
    responses={502: {"description": "orgs failed"}, 504: {"description": "orgs did not answer in time"}},
)
async def overview(
    request: Request,
    org_id: Annotated[uuid.UUID, Path()],
    as_of: Annotated[dt.date | None, Query(description="default: today")] = None,
) -> Response:
    c = Composer(request, "overview")
    main, part = c.settings.gateway_main_deadline, c.settings.gateway_part_deadline
    day = as_of.isoformat() if as_of else None
    year = (as_of or dt.date.today()).year
    base = f"/v1/organizations/{org_id}"

    org_call = c.spawn(c.call("orgs", base + query(as_of=day), part="organization", deadline=main))
    ancestors_call = c.spawn(
        c.call("orgs", f"{base}/ancestors{query(as_of=day)}", part="ancestors", deadline=part)
    )
    stats_call = c.spawn(c.call("orgs", f"{base}/stats{query(as_of=day)}", part="stats", deadline=part))
    ratings_call = c.spawn(c.call("orgs", f"{base}/ratings", part="latest_rating", deadline=part))
    posts_call = c.spawn(
        c.call("cadres", "/v1/posts" + query(within=org_id, limit=LIST), part="posts", deadline=part)
    )
    payroll_call = c.spawn(
        c.call(
            "cadres",
            "/v1/payroll/streamlining" + query(within=org_id, year=year),
            part="payroll",
            deadline=part,
        )
    )
    plans_call = c.spawn(
        c.call(
            "training",
            "/v1/training-plans" + query(within=org_id, year=year, limit=LIST),
            part="training_plans",
            deadline=part,
        )
    )

    organization = OrganizationView.model_validate(c.main(await org_call))

    ancestors = None
    if (found := c.optional(await ancestors_call)) is not None:
        ancestors = [org_ref(o) for o in found["items"] if o["id"] != str(org_id)]

    stats = None
    if (found := c.optional(await stats_call)) is not None:
        stats = OrganizationStatsView.model_validate(found)

    latest = None
    if (found := c.optional(await ratings_call)) is not None:
        rated = [r for r in found["items"] if int(r["year"]) <= year]
        if rated:
            best = max(rated, key=lambda r: int(r["year"]))
            latest = LatestRating(year=best["year"], rating=best["rating"])

    posts = None
    if (found := c.optional(await posts_call)) is not None:
        items = [PostSummary.model_validate(p) for p in found["items"]]
        posts = Posts(
            posts=len(items),
            seats=sum(p.seats for p in items),
            holders=sum(p.holders for p in items),
            vacant=sum(p.vacant for p in items),
            complete=found.get("next_cursor") is None,
            items=items,
        )

    payroll = None
    if (found := c.optional(await payroll_call)) is not None:
        payroll = Payroll.model_validate(found)

    plans = c.parsed(
        await plans_call,
        lambda page: TrainingPlans(
            year=year, items=[TrainingPlanProgress.model_validate(p) for p in page["items"]]
        ),
    )

    data = Overview(
        organization=organization,
        ancestors=ancestors,
        stats=stats,
        latest_rating=latest,
        posts=posts,
        payroll=payroll,
        training_plans=plans,
    )
    return c.respond(OverviewAnswer(data=data, partial=c.partial, errors=c.errors))
