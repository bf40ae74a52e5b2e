"""Programmes and courses: create, read, list, validation, roles, the course.scheduled event."""

from __future__ import annotations

from services.training.tests.support import Training


async def test_programme_lifecycle_and_validation(training: Training) -> None:
    c = training.client
    body = {
        "code": "TC",
        "name": "Trung cấp lý luận chính trị",
        "kind": "political_theory",
        "theory_level": "intermediate",
        "duration_months": 8,
    }
    r = await c.post("/v1/programmes", json=body, headers=training.auth())
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"/v1/programmes/{created['id']}"
    assert r.headers["etag"] == '"1"'
    assert (
        await c.get(f"/v1/programmes/{created['id']}", headers=training.auth(["viewer"]))
    ).json() == created
    # duplicate code; level missing or misplaced; unknown field; not a trainer
    assert (await c.post("/v1/programmes", json=body, headers=training.auth())).status_code == 409
    bad = [
        {**body, "code": "X1", "theory_level": None},
        {**body, "code": "X2", "kind": "fostering"},
        {**body, "code": "X3", "owner": "me"},
    ]
    for b in bad:
        r = await c.post("/v1/programmes", json=b, headers=training.auth())
        assert r.status_code == 422, b
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await c.post("/v1/programmes", json={**body, "code": "V"}, headers=training.auth(["viewer"]))
    assert r.status_code == 403
    assert (await c.post("/v1/programmes", json={**body, "code": "V"})).status_code == 401
    await training.programme("fostering", None)
    await training.programme("knowledge_update", None)
    page = (await c.get("/v1/programmes?limit=2", headers=training.auth(["viewer"]))).json()
    assert [p["code"] for p in page["items"]] == ["PG001", "PG002"] and page["next_cursor"]
    rest = (
        await c.get(f"/v1/programmes?limit=2&cursor={page['next_cursor']}", headers=training.auth())
    ).json()
    assert [p["code"] for p in rest["items"]] == ["TC"] and rest["next_cursor"] is None
    kinds = (await c.get("/v1/programmes?kind=fostering", headers=training.auth())).json()["items"]
    assert [p["kind"] for p in kinds] == ["fostering"]


async def test_courses_schedule_list_and_event(training: Training) -> None:
    c = training.client
    programme = await training.programme("political_theory", "advanced")
    first = await training.course(programme, starts_on="2025-10-01", capacity=5)
    second = await training.course(programme, starts_on="2026-03-01", ends_on="2026-12-01")
    other = await training.course(
        await training.programme("fostering", None), starts_on="2025-11-01", ends_on="2025-11-30"
    )
    read = (await c.get(f"/v1/courses/{first}", headers=training.auth(["viewer"]))).json()
    assert read["enrolled"] == 0 and read["capacity"] == 5
    assert read["programme_kind"] == "political_theory" and read["theory_level"] == "advanced"
    listed = (await c.get("/v1/courses", headers=training.auth())).json()["items"]
    assert [x["id"] for x in listed] == [first, other, second]  # by starts_on
    ranged = await c.get("/v1/courses?from=2025-10-15&to=2026-03-01", headers=training.auth())
    assert [x["id"] for x in ranged.json()["items"]] == [other, second]
    by_programme = await c.get(f"/v1/courses?programme_id={programme}", headers=training.auth())
    assert [x["id"] for x in by_programme.json()["items"]] == [first, second]
    bad = {
        "programme_id": programme,
        "code": "Z",
        "name": "Z",
        "provider": "P",
        "mode": "full_time",
        "starts_on": "2025-10-01",
        "ends_on": "2025-09-01",
        "capacity": 3,
    }
    assert (await c.post("/v1/courses", json=bad, headers=training.auth())).status_code == 422
    unknown = {**bad, "ends_on": "2025-12-01", "programme_id": "00000000-0000-4000-8000-000000000000"}
    r = await c.post("/v1/courses", json=unknown, headers=training.auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-programme")
    assert (await c.get(f"/v1/courses/{unknown['programme_id']}", headers=training.auth())).status_code == 404
    events = [e for e in await training.events() if e["type"].endswith("course.scheduled.v1")]
    assert len(events) == 3
    assert events[0]["data"] == {
        "id": first,
        "programme_id": programme,
        "programme_kind": "political_theory",
        "theory_level": "advanced",
        "code": read["code"],
        "starts_on": "2025-10-01",
        "ends_on": "2026-06-30",
        "capacity": 5,
    }
    assert events[0]["sequence"] == 1 and events[0]["subject"] == first
