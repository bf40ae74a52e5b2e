"""``GET /api/v1/reports/sector``: what the sector achieved over a period in a subtree (api.md, "The sector
report"), as JSON or as an ``.xlsx`` workbook.

Each service answers its own sections at ``GET /v1/stats/sector`` (forwarded the caller's token, so each
applies the caller's scope): orgs — period, scope, documents, organizations, members, coverage (the main part:
it names the scope organization; without it the report has no subject); cadres — personnel, payroll,
planning; training — training. A missing optional section is null and the answer partial.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.composition.calls import Composer, PartError, query
from gateway.composition.workbook import XLSX_MEDIA_TYPE, report_workbook
from shared.problems import Problem

router = APIRouter()


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date


class Scope(BaseModel):
    id: uuid.UUID | None = Field(description="null: everything the caller may see")
    name: str | None


class Documents(BaseModel):
    issued_by_kind: dict[str, int]


class Organizations(BaseModel):
    grassroots_established_by_kind: dict[str, int]
    grassroots_active_at_end_by_kind: dict[str, int]
    established_by_level: dict[str, int]
    dissolved_by_level: dict[str, int]
    merged_by_level: dict[str, int]
    ratings_by_year: dict[str, dict[str, int]]


class Members(BaseModel):
    admitted_by_kind: dict[str, int]
    admitted_total: int
    recognized_total: int
    left_by_reason: dict[str, int]
    active_at_end_by_status: dict[str, int]


class Coverage(BaseModel):
    units_total: int
    units_without_cell: int
    units_without_members: int


class Personnel(BaseModel):
    actions_by_kind: dict[str, int]
    cadres_by_kind: dict[str, int]
    cadres_moved_or_appointed: int


class Streamlining(BaseModel):
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


class Planning(BaseModel):
    term: str
    posts: int
    posts_without_candidate: int
    candidates: int
    ready_candidates: int


class Training(BaseModel):
    model_config = ConfigDict(extra="allow")

    cadres_sent_by_theory_level: dict[str, int]
    cadres_sent_by_programme_kind: dict[str, int]
    completed_by_theory_level: dict[str, int]


class SectorReport(BaseModel):
    period: Period
    scope: Scope
    documents: Documents
    organizations: Organizations
    members: Members
    coverage: Coverage
    personnel: Personnel | None = Field(description="cadres")
    payroll: Payroll | None = Field(description="cadres")
    planning: Planning | None = Field(description="cadres")
    training: Training | None = Field(description="training")


class SectorReportAnswer(BaseModel):
    data: SectorReport
    partial: bool
    errors: list[PartError]


ORGS_SECTIONS = ("period", "scope", "documents", "organizations", "members", "coverage")
CADRES_SECTIONS = ("personnel", "payroll", "planning")


@router.get(
    "/api/v1/reports/sector",
    response_model=SectorReportAnswer,
    operation_id="get_sector_report",
    tags=["composed"],
    summary="The sector report for a period and a subtree (JSON, or a workbook with format=xlsx)",
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
        502: {"description": "orgs failed"},
        504: {"description": "orgs did not answer in time"},
    },
)
async def sector_report(
    request: Request,
    start: Annotated[dt.date, Query(alias="from", description="first day of the period")],
    end: Annotated[dt.date, Query(alias="to", description="last day of the period (inclusive)")],
    within: Annotated[uuid.UUID | None, Query(description="default: your scope, else everything")] = None,
    format: Annotated[Literal["json", "xlsx"], Query(description="json (default) or xlsx")] = "json",
    baseline_year: Annotated[
        int | None, Query(ge=2000, le=2100, description="payroll baseline year (default 2021)")
    ] = None,
) -> Response:
    if end < start:
        raise Problem(422, "`to` must not be before `from`.", slug="invalid-input")
    c = Composer(request, "report")
    deadline = c.settings.gateway_report_deadline
    common = {"from": start.isoformat(), "to": end.isoformat(), "within": within}
    orgs_call = c.spawn(
        c.call("orgs", "/v1/stats/sector" + query(**common), part="organizations", deadline=deadline)
    )
    cadres_call = c.spawn(
        c.call(
            "cadres",
            "/v1/stats/sector" + query(**common, baseline_year=baseline_year),
            part="personnel",
            deadline=deadline,
        )
    )
    training_call = c.spawn(
        c.call("training", "/v1/stats/sector" + query(**common), part="training", deadline=deadline)
    )

    orgs = c.main(await orgs_call)
    cadres_answer = await cadres_call
    cadres = c.optional(cadres_answer) or {}
    if c.errors and c.errors[-1].service == "cadres":  # one failure leaves three sections out: name them all
        for name in CADRES_SECTIONS[1:]:
            c.fail("cadres", c.errors[-1].code, name)
    training = c.optional(await training_call) or {}

    data = SectorReport.model_validate(
        {
            **{name: orgs[name] for name in ORGS_SECTIONS},
            **{name: cadres.get(name) for name in CADRES_SECTIONS},
            "training": training.get("training"),
        }
    )
    answer = SectorReportAnswer(data=data, partial=c.partial, errors=c.errors)
    if format == "xlsx":
        filename = f"bao-cao-nganh-{start.isoformat()}_{end.isoformat()}.xlsx"
        return Response(
            report_workbook(answer.data, partial=answer.errors),
            media_type=XLSX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
    return c.respond(answer)
