"""Helpers of training's tests: seed the projections (by applying cadres' events, as the consumer does, and
organizations straight into the org projection) and call the API."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select

from services.training.projections.handlers import apply_cadres_event
from shared.cloudevents import CloudEvent
from shared.orgtree import repository as orgtree_repo
from shared.outbox import outbox
from shared.testing.service import ServiceHarness

TRAINER = ["trainer"]


class Training:
    """The training service under test, with seeding helpers and remembered ids."""

    def __init__(self, svc: ServiceHarness) -> None:
        self.svc = svc
        self.client = svc.client
        self.orgs: dict[str, uuid.UUID] = {}
        self._codes = 0

    def auth(self, roles: list[str] | None = None, org: str | None = None) -> dict[str, str]:
        return self.svc.auth(roles or TRAINER, org_scope=self.orgs[org] if org else None)

    # --- projections -----------------------------------------------------------------------------------

    async def org(self, code: str, level: str, parent: str | None = None) -> uuid.UUID:
        org_id = uuid.uuid4()
        async with self.svc.app.state.db.transaction() as s:
            parent_path = None
            if parent is not None:
                row = await orgtree_repo.by_id(s, self.orgs[parent])
                assert row is not None
                parent_path = row["path"]
            values = {
                "id": org_id,
                "code": code,
                "name": f"Đảng bộ {code}",
                "level": level,
                "kind": "agency",
                "tags": "",
                "parent_id": self.orgs[parent] if parent else None,
                "established_on": dt.date(2020, 1, 1),
                "status": "active",
                "sequence": 1,
            }
            await orgtree_repo.insert_org(s, parent_path=parent_path, values=values)
        self.orgs[code] = org_id
        return org_id

    async def tree(self) -> None:
        """P (province) > A, B (upper_grassroots); A > X (grassroots_committee)."""
        await self.org("P", "province")
        await self.org("A", "upper_grassroots", "P")
        await self.org("B", "upper_grassroots", "P")
        await self.org("X", "grassroots_committee", "A")

    async def event(self, type_: str, data: dict[str, Any], sequence: int = 1) -> None:
        event = CloudEvent(
            id=str(uuid.uuid4()),
            source="/tochuc/cadres",
            type=f"vn.tochuc.cadres.{type_}.v1",
            subject=str(data.get("id")),
            sequence=sequence,
            data=data,
        )
        async with self.svc.app.state.db.transaction() as s:
            await apply_cadres_event(s, event)

    async def cadre(
        self,
        org: str,
        name: str = "Nguyễn Văn An",
        *,
        level: str = "elementary",
        education: str = "bachelor",
        member: bool = True,
        gender: str = "male",
        birth_date: str = "1980-05-01",
    ) -> str:
        cadre_id = str(uuid.uuid4())
        await self.event(
            "cadre.registered",
            {
                "id": cadre_id,
                "org_id": str(self.orgs[org]),
                "member_id": str(uuid.uuid4()) if member else None,
                "full_name": name,
                "gender": gender,
                "birth_date": birth_date,
                "education": education,
                "declared_theory_level": level,
            },
        )
        return cadre_id

    async def post(
        self, org: str, title: str, category: str = "secretary", level: str | None = "advanced"
    ) -> str:
        post_id = str(uuid.uuid4())
        await self.event(
            "post.defined",
            {
                "id": post_id,
                "org_id": str(self.orgs[org]),
                "title": title,
                "category": category,
                "seats": 1,
                "requirements": {"theory_level": level, "min_years_in_prior_post": None},
            },
        )
        return post_id

    async def hold(self, cadre_id: str, post_id: str, org: str, since: str, until: str | None = None) -> str:
        assignment_id = str(uuid.uuid4())
        base = {"id": assignment_id, "cadre_id": cadre_id, "post_id": post_id, "org_id": str(self.orgs[org])}
        await self.event("assignment.started", {**base, "starts_on": since, "term_ends_on": None})
        if until:
            await self.event("assignment.ended", {**base, "ends_on": until, "term_ends_on": None}, 2)
        return assignment_id

    async def plan(self, cadre_id: str, post_id: str, added: str, removed: str | None = None) -> str:
        plan_id = str(uuid.uuid4())
        base = {"id": plan_id, "cadre_id": cadre_id, "post_id": post_id, "term": "2025-2030", "reason": None}
        await self.event("plan.added", {**base, "on": added})
        if removed:
            await self.event("plan.removed", {**base, "on": removed, "reason": "review"}, 2)
        return plan_id

    # --- the API ---------------------------------------------------------------------------------------

    async def programme(self, kind: str = "political_theory", level: str | None = "intermediate") -> str:
        self._codes += 1
        body = {"code": f"PG{self._codes:03d}", "name": f"Chương trình {self._codes}", "kind": kind}
        if level:
            body["theory_level"] = level
        r = await self.client.post("/v1/programmes", json=body, headers=self.auth())
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def course(
        self,
        programme_id: str,
        *,
        capacity: int = 30,
        mode: str = "full_time",
        starts_on: str = "2025-10-01",
        ends_on: str = "2026-06-30",
    ) -> str:
        self._codes += 1
        body = {
            "programme_id": programme_id,
            "code": f"K{self._codes:03d}",
            "name": f"Lớp {self._codes}",
            "provider": "Trường Chính trị tỉnh",
            "mode": mode,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "capacity": capacity,
        }
        r = await self.client.post("/v1/courses", json=body, headers=self.auth())
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def enrollment(
        self, course_id: str, cadre_id: str, org: str, sent_on: str = "2025-09-15", **extra: Any
    ) -> dict[str, Any]:
        return {
            "course_id": course_id,
            "cadre_id": cadre_id,
            "sent_by_org_id": str(self.orgs[org]),
            "sent_on": sent_on,
            **extra,
        }

    async def enroll(
        self, course_id: str, cadre_id: str, org: str, sent_on: str = "2025-09-15", **extra: Any
    ) -> str:
        body = self.enrollment(course_id, cadre_id, org, sent_on, **extra)
        r = await self.client.post("/v1/enrollments", json=body, headers=self.auth())
        assert r.status_code == 201, r.text
        return str(r.json()["enrollment"]["id"])

    async def complete(
        self, enrollment_id: str, on: str, result: str = "completed", **extra: Any
    ) -> dict[str, Any]:
        body = {"completed_on": on, "result": result, **extra}
        r = await self.client.post(
            f"/v1/enrollments/{enrollment_id}/completion", json=body, headers=self.auth()
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def events(self, prefix: str = "tochuc.training.") -> list[dict[str, Any]]:
        async with self.svc.app.state.db.session() as s:
            rows = await s.execute(
                select(outbox.c.payload).where(outbox.c.subject.startswith(prefix)).order_by(outbox.c.seq)
            )
            return [json.loads(p) for (p,) in rows]
