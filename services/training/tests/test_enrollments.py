"""Enrollments: every lifecycle step, capacity under concurrency, scope by subtree, idempotency."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from services.training.tests.support import Training

ENROLLMENTS = "/v1/enrollments"


async def test_lifecycle_seats_and_events(training: Training) -> None:
    await training.tree()
    c = training.client
    course = await training.course(await training.programme("political_theory", "intermediate"), capacity=3)
    an, binh, chi = [await training.cadre("X", n) for n in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Chí")]

    dry = await c.post(
        f"{ENROLLMENTS}:check", json=training.enrollment(course, an, "X"), headers=training.auth()
    )
    assert dry.status_code == 200 and dry.json() == {"enrollment": None, "findings": []}
    assert (await c.get(f"{ENROLLMENTS}", headers=training.auth())).json()["items"] == []  # nothing written

    r = await c.post(ENROLLMENTS, json=training.enrollment(course, an, "X"), headers=training.auth())
    assert r.status_code == 201, r.text
    first = r.json()["enrollment"]
    assert r.headers["location"] == f"{ENROLLMENTS}/{first['id']}" and r.headers["etag"] == '"1"'
    assert (
        first["status"] == "enrolled"
        and first["theory_level"] == "intermediate"
        and r.json()["findings"] == []
    )
    again = await c.post(ENROLLMENTS, json=training.enrollment(course, an, "X"), headers=training.auth())
    assert again.status_code == 409 and again.json()["type"].endswith("/already-enrolled")
    second = await training.enroll(course, binh, "X")
    third = await training.enroll(course, chi, "X", sent_on="2025-09-20")
    assert (await c.get(f"/v1/courses/{course}", headers=training.auth())).json()["enrolled"] == 3

    # completion: only from enrolled, not before sent_on, certificate only with a completion
    early = {"completed_on": "2025-09-01", "result": "completed"}
    assert (
        await c.post(f"{ENROLLMENTS}/{first['id']}/completion", json=early, headers=training.auth())
    ).status_code == 422
    failed_cert = {"completed_on": "2026-06-30", "result": "failed", "certificate_no": "1"}
    assert (
        await c.post(f"{ENROLLMENTS}/{second}/completion", json=failed_cert, headers=training.auth())
    ).status_code == 422
    done = await training.complete(first["id"], "2026-06-30", certificate_no="TC-0001")
    assert done["status"] == "completed" and done["certificate_no"] == "TC-0001" and done["version"] == 2
    r = await c.post(
        f"{ENROLLMENTS}/{first['id']}/completion",
        json=early | {"completed_on": "2026-07-01"},
        headers=training.auth(),
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/enrollment-closed")
    failed = await training.complete(second, "2026-06-30", "failed")
    assert failed["status"] == "failed" and failed["completed_on"] == "2026-06-30"

    # withdrawal gives the seat back; completion and failure keep theirs
    body = {"withdrawn_on": "2025-12-01", "reason": "Chuyển công tác"}
    r = await c.post(f"{ENROLLMENTS}/{third}/withdrawal", json=body, headers=training.auth())
    assert (
        r.status_code == 200
        and r.json()["status"] == "withdrawn"
        and r.json()["withdrawal_reason"] == body["reason"]
    )
    assert (
        await c.post(f"{ENROLLMENTS}/{third}/withdrawal", json=body, headers=training.auth())
    ).status_code == 409
    assert (await c.get(f"/v1/courses/{course}", headers=training.auth())).json()["enrolled"] == 2
    # withdrawn: the cadre may be sent to the same course again
    await training.enroll(course, chi, "X", sent_on="2025-12-02")

    listed = (
        await c.get(f"{ENROLLMENTS}?course_id={course}&status=enrolled", headers=training.auth())
    ).json()
    assert [e["cadre_id"] for e in listed["items"]] == [chi]
    by_cadre = (await c.get(f"{ENROLLMENTS}?cadre_id={chi}", headers=training.auth())).json()["items"]
    assert [e["status"] for e in by_cadre] == ["withdrawn", "enrolled"]  # by sent_on

    events = [e for e in await training.events() if ".enrollment." in e["type"]]
    kinds = [(e["type"].split(".")[-2], e["subject"], e["sequence"]) for e in events]
    assert kinds[:3] == [("created", first["id"], 1), ("created", second, 1), ("created", third, 1)]
    assert kinds[3:] == [
        ("completed", first["id"], 2),
        ("failed", second, 2),
        ("withdrawn", third, 2),
        ("created", kinds[6][1], 1),
    ]
    assert events[0]["data"] == {
        "id": first["id"],
        "course_id": course,
        "cadre_id": an,
        "sent_by_org_id": str(training.orgs["X"]),
        "sent_on": "2025-09-15",
    }
    assert events[3]["data"] == {"id": first["id"], "course_id": course, "cadre_id": an, "on": "2026-06-30"}
    assert events[5]["data"]["on"] == "2025-12-01"


async def test_unknown_course_cadre_and_organization(training: Training) -> None:
    await training.tree()
    course = await training.course(await training.programme("fostering", None))
    cadre = await training.cadre("X")
    # cadres does not know the cadre either
    directory = training.svc.app.state.cadre_directory
    directory.client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(404, json={})), base_url="http://cadres"
    )
    nobody = str(uuid.uuid4())
    r = await training.client.post(
        ENROLLMENTS, json=training.enrollment(course, nobody, "X"), headers=training.auth()
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-cadre")
    body = training.enrollment(str(uuid.uuid4()), cadre, "X")
    r = await training.client.post(ENROLLMENTS, json=body, headers=training.auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-course")
    late = training.enrollment(course, cadre, "X", sent_on="2026-07-01")
    assert (await training.client.post(ENROLLMENTS, json=late, headers=training.auth())).status_code == 422
    extra = training.enrollment(course, cadre, "X", status="completed")
    assert (await training.client.post(ENROLLMENTS, json=extra, headers=training.auth())).status_code == 422
    viewer = await training.client.post(
        ENROLLMENTS, json=training.enrollment(course, cadre, "X"), headers=training.auth(["viewer"])
    )
    assert viewer.status_code == 403


async def test_capacity_holds_under_parallel_requests(training: Training) -> None:
    await training.tree()
    course = await training.course(await training.programme("fostering", None), capacity=5)
    cadres = [await training.cadre("X", f"Cán bộ {i:02d}") for i in range(20)]

    async def send(cadre_id: str) -> httpx.Response:
        return await training.client.post(
            ENROLLMENTS, json=training.enrollment(course, cadre_id, "X"), headers=training.auth()
        )

    answers = await asyncio.gather(*(send(c) for c in cadres))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [409] * 15, codes
    assert all(a.json()["type"].endswith("/course-full") for a in answers if a.status_code == 409)
    assert (await training.client.get(f"/v1/courses/{course}", headers=training.auth())).json()[
        "enrolled"
    ] == 5
    taken = (await training.client.get(f"{ENROLLMENTS}?course_id={course}", headers=training.auth())).json()
    assert len(taken["items"]) == 5
    # a withdrawal frees one seat, and only one
    body = {"withdrawn_on": "2025-10-01", "reason": "Ốm"}
    await training.client.post(
        f"{ENROLLMENTS}/{taken['items'][0]['id']}/withdrawal", json=body, headers=training.auth()
    )
    left = [c for c in cadres if c not in {e["cadre_id"] for e in taken["items"]}]
    second = await asyncio.gather(*(send(c) for c in left[:4]))
    assert sorted(a.status_code for a in second) == [201, 409, 409, 409]


async def test_scope_by_subtree(training: Training) -> None:
    await training.tree()
    c = training.client
    course = await training.course(await training.programme("fostering", None))
    in_a = await training.cadre("X", "Phạm Văn Dũng")
    in_b = await training.cadre("B", "Hoàng Thị Em")
    a_trainer = training.auth(["trainer"], "A")
    # the sending organization must be in the trainer's subtree (403), the cadre visible (422 otherwise)
    r = await c.post(ENROLLMENTS, json=training.enrollment(course, in_a, "B"), headers=a_trainer)
    assert r.status_code == 403
    r = await c.post(ENROLLMENTS, json=training.enrollment(course, in_b, "X"), headers=a_trainer)
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-cadre")
    r = await c.post(ENROLLMENTS, json=training.enrollment(course, in_a, "X"), headers=a_trainer)
    assert r.status_code == 201
    mine = r.json()["enrollment"]["id"]
    theirs = await training.enroll(course, in_b, "B")
    assert (await c.get(f"{ENROLLMENTS}/{theirs}", headers=a_trainer)).status_code == 404
    done = {"completed_on": "2026-06-30", "result": "completed"}
    assert (
        await c.post(f"{ENROLLMENTS}/{theirs}/completion", json=done, headers=a_trainer)
    ).status_code == 404
    # visible but not writable: a viewer of A
    r = await c.post(f"{ENROLLMENTS}/{mine}/completion", json=done, headers=training.auth(["viewer"], "A"))
    assert r.status_code == 403
    listed = (await c.get(ENROLLMENTS, headers=training.auth(["viewer"], "A"))).json()["items"]
    assert [e["id"] for e in listed] == [mine]
    everything = (await c.get(ENROLLMENTS, headers=training.auth(["viewer"]))).json()["items"]
    assert {e["id"] for e in everything} == {mine, theirs}
    within_b = (await c.get(f"{ENROLLMENTS}?within={training.orgs['B']}", headers=training.auth())).json()[
        "items"
    ]
    assert [e["id"] for e in within_b] == [theirs]
    assert (await c.get(f"{ENROLLMENTS}?within={training.orgs['B']}", headers=a_trainer)).status_code == 404


async def test_idempotent_enrollment(training: Training) -> None:
    await training.tree()
    course = await training.course(await training.programme("fostering", None))
    cadre = await training.cadre("X")
    headers = {**training.auth(), "Idempotency-Key": "send-1"}
    body = training.enrollment(course, cadre, "X")
    first = await training.client.post(ENROLLMENTS, json=body, headers=headers)
    replay = await training.client.post(ENROLLMENTS, json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    other = await training.client.post(ENROLLMENTS, json={**body, "sent_on": "2025-09-16"}, headers=headers)
    assert other.status_code == 422
    assert (await training.client.get(f"/v1/courses/{course}", headers=training.auth())).json()[
        "enrolled"
    ] == 1
