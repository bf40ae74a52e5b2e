"""Attained levels, the qualification events, training needs as posts, plans and completions change, the
look-up of unseen cadres in cadres, and the projections' tolerance of order."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from services.cadres.app import create_app as create_cadres
from services.training.app import create_app as create_training
from services.training.projections.models import ProjectedAssignment, ProjectedCadre, ProjectedPlan
from services.training.tests.support import Training
from shared.orgtree import repository as orgtree_repo
from shared.orgtree.models import ProjectedOrganization


async def qualifications(
    training: Training, cadre: str, as_of: str | None = None, **auth: Any
) -> httpx.Response:
    query = f"?as_of={as_of}" if as_of else ""
    return await training.client.get(
        f"/v1/cadres/{cadre}/qualifications{query}", headers=training.auth(**auth)
    )


async def test_attained_level_history_and_events(training: Training) -> None:
    await training.tree()
    cadre = await training.cadre("X", level="elementary")
    r = await qualifications(training, cadre)
    assert r.status_code == 200
    assert r.json()["attained_theory_level"] == "elementary"
    assert r.json()["history"] == [
        {
            "theory_level": "elementary",
            "attained_on": None,
            "source": "declared",
            "course_id": None,
            "enrollment_id": None,
            "certificate_no": None,
        }
    ]
    intermediate = await training.course(await training.programme("political_theory", "intermediate"))
    enrollment = await training.enroll(intermediate, cadre, "X")
    await training.complete(enrollment, "2026-06-30", certificate_no="TC-7")
    assert (await qualifications(training, cadre, "2026-06-29")).json()[
        "attained_theory_level"
    ] == "elementary"
    after = (await qualifications(training, cadre, "2026-06-30")).json()
    assert after["attained_theory_level"] == "intermediate"
    assert after["history"][1] == {
        "theory_level": "intermediate",
        "attained_on": "2026-06-30",
        "source": "course",
        "course_id": intermediate,
        "enrollment_id": enrollment,
        "certificate_no": "TC-7",
    }
    # a fostering course and a failed or lower course change nothing, and record no event
    fostering = await training.course(await training.programme("fostering", None))
    await training.complete(await training.enroll(fostering, cadre, "X"), "2026-07-01")
    elementary = await training.course(await training.programme("political_theory", "elementary"))
    lower = await training.enroll(elementary, cadre, "X", acknowledged_findings={"reason": "ôn lại"})
    await training.complete(lower, "2026-07-02")
    advanced = await training.course(
        await training.programme("political_theory", "advanced"), ends_on="2027-06-30"
    )
    failed = await training.enroll(advanced, cadre, "X", acknowledged_findings={"reason": "cử đi"})
    await training.complete(failed, "2027-06-30", "failed")
    assert (await qualifications(training, cadre, "2030-01-01")).json()[
        "attained_theory_level"
    ] == "intermediate"
    attained = [e for e in await training.events() if e["type"].endswith("qualification.attained.v1")]
    assert [(e["data"], e["subject"], e["sequence"]) for e in attained] == [
        ({"cadre_id": cadre, "theory_level": "intermediate", "attained_on": "2026-06-30"}, cadre, 1)
    ]
    # scope: a cadre outside the caller's subtree does not exist for the caller
    assert (await qualifications(training, cadre, roles=["viewer"], org="B")).status_code == 404
    assert (await qualifications(training, cadre, roles=["viewer"], org="A")).status_code == 200


async def test_training_needs_follow_posts_plans_and_completions(training: Training) -> None:
    await training.tree()
    c = training.client

    async def needs(query: str = "", **auth: Any) -> list[dict[str, Any]]:
        r = await c.get(f"/v1/training-needs?as_of=2026-01-01{query}", headers=training.auth(**auth))
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    secretary = await training.post("A", "Bí thư Huyện ủy A", "secretary", "advanced")
    deputy = await training.post("A", "Phó Chủ tịch UBND", "vice_chair", "intermediate")
    commune = await training.post("X", "Bí thư Đảng ủy xã", "secretary", "intermediate")
    b_head = await training.post("B", "Trưởng ban", "head", "advanced")
    holder = await training.cadre("X", "Lê Văn Cường", level="intermediate")
    planned = await training.cadre("X", "Đỗ Thị Bích", level="elementary")
    fine = await training.cadre("X", "Vũ Văn Đạt", level="advanced")
    await training.hold(holder, secretary, "A", "2025-01-01")
    await training.plan(planned, secretary, "2025-03-01")
    await training.plan(planned, deputy, "2025-03-01")
    await training.hold(planned, commune, "X", "2024-01-01")
    await training.hold(fine, b_head, "B", "2024-01-01")

    items = await needs()
    # Vietnamese order: given name first — Bích before Cường
    assert [i["cadre_id"] for i in items] == [planned, holder]
    assert items[0] == {
        "cadre_id": planned,
        "full_name": "Đỗ Thị Bích",
        "org_id": str(training.orgs["X"]),
        "attained_theory_level": "elementary",
        "required_theory_level": "advanced",
        "posts": [
            {
                "post_id": secretary,
                "title": "Bí thư Huyện ủy A",
                "category": "secretary",
                "org_id": str(training.orgs["A"]),
                "relation": "planned",
                "required_theory_level": "advanced",
            },
            {
                "post_id": commune,
                "title": "Bí thư Đảng ủy xã",
                "category": "secretary",
                "org_id": str(training.orgs["X"]),
                "relation": "held",
                "required_theory_level": "intermediate",
            },
            {
                "post_id": deputy,
                "title": "Phó Chủ tịch UBND",
                "category": "vice_chair",
                "org_id": str(training.orgs["A"]),
                "relation": "planned",
                "required_theory_level": "intermediate",
            },
        ],
    }
    assert [p["relation"] for p in items[1]["posts"]] == ["held"]
    # filters: category, cadre, within (the post's organization), the caller's scope
    assert [i["cadre_id"] for i in await needs("&post_category=vice_chair")] == [planned]
    assert [i["cadre_id"] for i in await needs(f"&cadre_id={holder}")] == [holder]
    by_cadre = await needs(f"&cadre_id={planned}")  # the one-cadre query answers as the walk does
    assert by_cadre == [i for i in items if i["cadre_id"] == planned]
    assert await needs(f"&cadre_id={planned}&within={training.orgs['B']}") == []
    assert await needs(f"&cadre_id={fine}") == []  # holds a post, needs nothing more
    assert await needs(f"&cadre_id={holder}", roles=["viewer"], org="B") == []
    within_x = await needs(f"&within={training.orgs['X']}")
    assert [(i["cadre_id"], [p["post_id"] for p in i["posts"]]) for i in within_x] == [(planned, [commune])]
    assert await needs(roles=["viewer"], org="B") == []
    assert [i["cadre_id"] for i in await needs(roles=["viewer"], org="A")] == [planned, holder]
    # pagination
    first = await c.get("/v1/training-needs?as_of=2026-01-01&limit=1", headers=training.auth())
    cursor = first.json()["next_cursor"]
    rest = await c.get(
        f"/v1/training-needs?as_of=2026-01-01&limit=1&cursor={cursor}", headers=training.auth()
    )
    assert [i["cadre_id"] for i in first.json()["items"] + rest.json()["items"]] == [planned, holder]
    assert rest.json()["next_cursor"] is None
    # before the plans and the assignment: only what held then
    assert [i["cadre_id"] for i in await needs("&as_of=2024-06-01")] == [planned]

    # the holder completes advanced theory: no longer in need from that day
    advanced = await training.course(await training.programme("political_theory", "advanced"))
    done = await training.enroll(advanced, holder, "A")
    await training.complete(done, "2025-12-20")
    assert [i["cadre_id"] for i in await needs()] == [planned]
    # the planned cadre completes intermediate: the advanced post still needs more
    intermediate = await training.course(await training.programme("political_theory", "intermediate"))
    await training.complete(await training.enroll(intermediate, planned, "X"), "2025-12-01")
    (left,) = await needs()
    assert left["attained_theory_level"] == "intermediate"
    assert [p["post_id"] for p in left["posts"]] == [secretary]
    # removed from the plan: no more need
    await training.event(
        "plan.removed",
        {
            "id": await _plan_id(training, planned, secretary),
            "cadre_id": planned,
            "post_id": secretary,
            "term": "2025-2030",
            "on": "2025-12-31",
            "reason": "x",
        },
        2,
    )
    assert await needs() == []


async def _plan_id(training: Training, cadre: str, post: str) -> str:
    table = ProjectedPlan.__table__
    async with training.svc.app.state.db.session() as s:
        stmt = select(table.c.id).where(
            table.c.cadre_id == uuid.UUID(cadre), table.c.post_id == uuid.UUID(post)
        )
        return str((await s.execute(stmt)).scalar_one())


async def test_projections_tolerate_order_and_repeats(training: Training) -> None:
    await training.tree()
    cadre, assignment = str(uuid.uuid4()), str(uuid.uuid4())
    org = str(training.orgs["X"])
    # the update before the registration
    await training.event("cadre.updated", {"id": cadre, "changes": {"education": "master"}}, 2)
    registered = {
        "id": cadre,
        "org_id": org,
        "member_id": None,
        "full_name": "Phan Văn Giang",
        "gender": "male",
        "birth_date": "1975-01-01",
        "education": "college",
        "declared_theory_level": "intermediate",
    }
    await training.event("cadre.registered", registered, 1)
    await training.event("cadre.registered", registered, 1)  # repeated
    await training.event("cadre.updated", {"id": cadre, "changes": {"full_name": "Cũ"}}, 2)  # stale
    await training.event("cadre.updated", {"id": cadre, "changes": {"declared_theory_level": "advanced"}}, 3)
    # an assignment ended before it started, then a rotation's end cut short
    link = {
        "id": assignment,
        "cadre_id": cadre,
        "post_id": str(uuid.uuid4()),
        "org_id": org,
        "term_ends_on": None,
    }
    await training.event("assignment.ended", {**link, "ends_on": "2026-01-01"}, 2)
    await training.event("assignment.started", {**link, "starts_on": "2024-01-01"}, 1)
    await training.event("assignment.ended", {**link, "ends_on": "2025-06-01"}, 3)
    await training.event("assignment.ended", {**link, "ends_on": "2026-01-01"}, 2)  # stale again
    async with training.svc.app.state.db.session() as s:
        k = (
            await s.execute(select(ProjectedCadre.__table__).where(ProjectedCadre.id == uuid.UUID(cadre)))
        ).one()
        a = (await s.execute(select(ProjectedAssignment.__table__))).one()
    assert (k.full_name, k.education, k.declared_theory_level, k.declared_rank, k.sequence) == (
        "Phan Văn Giang",
        "master",
        "advanced",
        3,
        3,
    )
    assert (str(a.starts_on), str(a.ends_on), a.ended_sequence) == ("2024-01-01", "2025-06-01", 3)


async def test_unseen_cadre_is_looked_up_in_cadres(run_service: Any, tmp_path: Path) -> None:
    """Training asks cadres (service token, shared development key) before refusing a cadre id."""
    shared_dir = tmp_path / "data"
    async with run_service("cadres", create_cadres, data_dir=shared_dir, run_workers=False) as cadres:
        async with run_service("training", create_training, data_dir=shared_dir, run_workers=False) as svc:
            directory = svc.app.state.cadre_directory
            await directory.client.aclose()
            directory.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=cadres.app), base_url="http://cadres"
            )
            training = Training(svc)
            await training.tree()
            org_id = training.orgs["X"]
            async with cadres.app.state.db.transaction() as s:  # the same organization, known to cadres
                async with svc.app.state.db.session() as t:
                    rows = (
                        (await t.execute(select(ProjectedOrganization.__table__).order_by("node")))
                        .mappings()
                        .all()
                    )
                for row in rows:
                    values = {k: v for k, v in row.items() if k not in ("node", "path", "updated_at")}
                    parent = await orgtree_repo.by_id(s, row["parent_id"]) if row["parent_id"] else None
                    await orgtree_repo.insert_org(
                        s, parent_path=parent["path"] if parent else None, values=values
                    )
            body = {
                "full_name": "Mai Văn Hùng",
                "birth_date": "1985-02-03",
                "gender": "male",
                "org_id": str(org_id),
                "education": "bachelor",
                "declared_theory_level": "elementary",
                "member_id": str(uuid.uuid4()),
            }
            r = await cadres.client.post("/v1/cadres", json=body, headers=cadres.auth(["personnel"]))
            assert r.status_code == 201, r.text
            cadre = r.json()["id"]
            course = await training.course(await training.programme("political_theory", "intermediate"))
            enrollment = await training.enroll(course, cadre, "X")  # looked up, then projected
            async with svc.app.state.db.session() as t:
                k = (
                    await t.execute(
                        select(ProjectedCadre.__table__).where(ProjectedCadre.id == uuid.UUID(cadre))
                    )
                ).one()
            assert (k.full_name, k.declared_theory_level, k.sequence, k.org_id) == (
                "Mai Văn Hùng",
                "elementary",
                1,
                org_id,
            )
            assert enrollment
            unknown = await svc.client.post(
                "/v1/enrollments",
                json=training.enrollment(course, str(uuid.uuid4()), "X"),
                headers=training.auth(),
            )
            assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-cadre")
            # without a service token (production: a JWKS), the caller's own token is passed on
            svc.settings.__dict__["jwks_url"] = "http://idp.invalid/jwks"
            try:
                other = (
                    await cadres.client.post(
                        "/v1/cadres",
                        json={**body, "full_name": "Hồ Thị Lan"},
                        headers=cadres.auth(["personnel"]),
                    )
                ).json()["id"]
                r = await qualifications(training, other)
                assert r.status_code == 200 and r.json()["attained_theory_level"] == "elementary"
            finally:
                svc.settings.__dict__.pop("jwks_url")


async def test_a_cadres_training_is_what_the_three_reads_answer(training: Training) -> None:
    """``GET /v1/cadres/{id}/training`` (one call for a profile) answers exactly what qualifications,
    enrollments and training needs answer one by one, for each caller's scope and day."""
    await training.tree()
    c = training.client
    secretary = await training.post("A", "Bí thư Huyện ủy A", "secretary", "advanced")
    cadre = await training.cadre("X", "Lê Văn Cường", level="elementary")
    other = await training.cadre("X", "Vũ Văn Đạt", level="advanced")
    await training.hold(cadre, secretary, "A", "2025-01-01")
    intermediate = await training.course(await training.programme("political_theory", "intermediate"))
    await training.complete(await training.enroll(intermediate, cadre, "X"), "2025-12-01")
    advanced = await training.course(await training.programme("political_theory", "advanced"))
    await training.enroll(advanced, cadre, "A")

    async def one_by_one(who: str, day: str, **auth: Any) -> dict[str, Any]:
        headers = training.auth(**auth)
        q = await c.get(f"/v1/cadres/{who}/qualifications?as_of={day}", headers=headers)
        e = await c.get(f"/v1/enrollments?cadre_id={who}&limit=500", headers=headers)
        n = await c.get(f"/v1/training-needs?cadre_id={who}&as_of={day}&limit=500", headers=headers)
        assert (q.status_code, e.status_code, n.status_code) == (200, 200, 200), q.text
        return {
            "qualifications": q.json(),
            "enrollments": e.json()["items"],
            "enrollments_truncated": False,
            "training_needs": n.json()["items"],
        }

    cases = [(cadre, "2025-10-01", {}), (cadre, "2026-01-01", {}), (other, "2026-01-01", {})]
    cases.append((cadre, "2026-01-01", {"roles": ["viewer"], "org": "X"}))
    for who, day, auth in cases:
        r = await c.get(f"/v1/cadres/{who}/training?as_of={day}", headers=training.auth(**auth))
        assert r.status_code == 200, r.text
        assert r.json() == await one_by_one(who, day, **auth), (who, day, auth)
    bundle = (await c.get(f"/v1/cadres/{cadre}/training?as_of=2026-01-01", headers=training.auth())).json()
    assert len(bundle["enrollments"]) == 2 and [n["cadre_id"] for n in bundle["training_needs"]] == [cadre]
    outside = await c.get(f"/v1/cadres/{cadre}/training", headers=training.auth(roles=["viewer"], org="B"))
    assert outside.status_code == 404
    assert outside.headers["content-type"] == "application/problem+json"
