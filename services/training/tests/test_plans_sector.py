"""Training plans against enrollments, and the training section of the sector report against independent
counts."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from services.training.tests.support import Training


async def test_training_plans(training: Training) -> None:
    await training.tree()
    c = training.client
    programme = await training.programme("political_theory", "intermediate")
    other = await training.programme("fostering", None)
    url = f"/v1/training-plans/2025/{training.orgs['X']}/{programme}"
    r = await c.put(url, json={"target": 3}, headers=training.auth())
    assert r.status_code == 201 and r.headers["location"] == url and r.headers["etag"] == '"1"'
    assert r.json()["enrolled"] == 0 and r.json()["target"] == 3
    r = await c.put(url, json={"target": 4}, headers={**training.auth(), "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert (
        await c.put(url, json={"target": 5}, headers={**training.auth(), "If-Match": '"1"'})
    ).status_code == 412
    assert (await c.put(url, json={"target": 5, "x": 1}, headers=training.auth())).status_code == 422
    assert (await c.put(url, json={"target": 5}, headers=training.auth(["viewer"]))).status_code == 403
    b_url = f"/v1/training-plans/2025/{training.orgs['B']}/{programme}"
    assert (
        await c.put(b_url, json={"target": 1}, headers=training.auth(["trainer"], "A"))
    ).status_code == 403
    assert (await c.put(b_url, json={"target": 2}, headers=training.auth())).status_code == 201
    await c.put(
        f"/v1/training-plans/2026/{training.orgs['X']}/{programme}",
        json={"target": 9},
        headers=training.auth(),
    )

    course_2025 = await training.course(programme, starts_on="2025-10-01")
    course_2026 = await training.course(programme, starts_on="2026-02-01", ends_on="2026-12-01")
    fostering = await training.course(other)
    cadres = [await training.cadre("X", f"Cán bộ {i}") for i in range(5)]
    done = await training.enroll(course_2025, cadres[0], "X", sent_on="2025-09-10")
    await training.complete(done, "2026-06-30")
    await training.enroll(course_2025, cadres[1], "X", sent_on="2025-09-10")
    gone = await training.enroll(course_2025, cadres[2], "X", sent_on="2025-09-10")
    await c.post(
        f"/v1/enrollments/{gone}/withdrawal",
        json={"withdrawn_on": "2025-10-01", "reason": "x"},
        headers=training.auth(),
    )
    await training.enroll(course_2026, cadres[3], "X", sent_on="2025-12-20")  # sent in 2025 for a 2026 course
    await training.enroll(course_2026, cadres[0], "X", sent_on="2026-01-05")  # 2026
    await training.enroll(fostering, cadres[4], "X", sent_on="2025-09-10")  # another programme
    await training.enroll(course_2025, cadres[4], "A", sent_on="2025-09-10")  # sent by another organization

    plans = (await c.get("/v1/training-plans?year=2025", headers=training.auth(["viewer"]))).json()["items"]
    got = {(p["org_id"], p["target"], p["enrolled"], p["completed"]) for p in plans}
    assert got == {(str(training.orgs["X"]), 4, 3, 1), (str(training.orgs["B"]), 2, 0, 0)}
    assert [p["org_id"] for p in plans] == [str(training.orgs["X"]), str(training.orgs["B"])]  # tree order
    scoped = (await c.get("/v1/training-plans", headers=training.auth(["viewer"], "A"))).json()["items"]
    assert [(p["year"], p["enrolled"]) for p in scoped] == [(2025, 3), (2026, 1)]
    within = await c.get(f"/v1/training-plans?within={training.orgs['B']}", headers=training.auth())
    assert [p["org_id"] for p in within.json()["items"]] == [str(training.orgs["B"])]
    page = (await c.get("/v1/training-plans?limit=2", headers=training.auth())).json()
    rest = (
        await c.get(f"/v1/training-plans?limit=2&cursor={page['next_cursor']}", headers=training.auth())
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 3 and rest["next_cursor"] is None


async def test_sector_numbers_match_independent_counts(training: Training) -> None:
    await training.tree()
    rng = random.Random(7)
    levels = ["elementary", "intermediate", "advanced"]
    courses: list[tuple[str, str, str | None]] = []
    for level in levels:
        programme = await training.programme("political_theory", level)
        courses.append(
            (await training.course(programme, capacity=500, ends_on="2027-12-31"), "political_theory", level)
        )
    for kind in ("fostering", "new_member"):
        courses.append(
            (
                await training.course(
                    await training.programme(kind, None), capacity=500, ends_on="2027-12-31"
                ),
                kind,
                None,
            )
        )
    cadres = [await training.cadre(rng.choice(["X", "B"]), f"Cán bộ {i}", level="none") for i in range(12)]
    ack = {"reason": "test"}
    records: list[dict[str, Any]] = []
    for _ in range(40):
        course, kind, level = rng.choice(courses)
        cadre, org = rng.choice(cadres), rng.choice(["X", "A", "B", "P"])
        sent_on = f"2025-{rng.randint(9, 12):02d}-{rng.randint(1, 28):02d}"
        r = await training.client.post(
            "/v1/enrollments",
            json=training.enrollment(course, cadre, org, sent_on, acknowledged_findings=ack),
            headers=training.auth(),
        )
        if r.status_code == 409:
            continue  # already enrolled in that course
        assert r.status_code == 201, r.text
        record = {
            "id": r.json()["enrollment"]["id"],
            "cadre": cadre,
            "org": org,
            "kind": kind,
            "level": level,
            "sent_on": sent_on,
            "status": "enrolled",
            "completed_on": None,
        }
        outcome = rng.choice(["enrolled", "completed", "failed", "withdrawn"])
        if outcome in ("completed", "failed"):
            record["completed_on"] = f"2026-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}"
            await training.complete(record["id"], record["completed_on"], outcome)
        elif outcome == "withdrawn":
            body = {"withdrawn_on": "2025-12-31", "reason": "x"}
            r = await training.client.post(
                f"/v1/enrollments/{record['id']}/withdrawal", json=body, headers=training.auth()
            )
            assert r.status_code == 200
        record["status"] = outcome
        records.append(record)

    subtrees = {"P": {"P", "A", "B", "X"}, "A": {"A", "X"}, "B": {"B"}, "X": {"X"}}

    def expected(start: str, end: str, orgs: set[str]) -> dict[str, dict[str, int]]:
        sent_level: dict[str, set[str]] = defaultdict(set)
        sent_kind: dict[str, set[str]] = defaultdict(set)
        completed: dict[str, set[str]] = defaultdict(set)
        for e in records:
            if e["org"] not in orgs:
                continue
            if start <= e["sent_on"] <= end:
                sent_kind[e["kind"]].add(e["cadre"])
                if e["level"]:
                    sent_level[e["level"]].add(e["cadre"])
            if e["status"] == "completed" and e["level"] and start <= e["completed_on"] <= end:
                completed[e["level"]].add(e["cadre"])

        def counts(d: dict[str, set[str]]) -> dict[str, int]:
            return {k: len(v) for k, v in sorted(d.items())}

        return {
            "cadres_sent_by_theory_level": counts(sent_level),
            "cadres_sent_by_programme_kind": counts(sent_kind),
            "completed_by_theory_level": counts(completed),
        }

    for start, end in (
        ("2025-01-01", "2026-12-31"),
        ("2025-10-01", "2026-03-31"),
        ("2025-11-15", "2025-11-15"),
    ):
        for root, orgs in subtrees.items():
            query = f"/v1/stats/sector?from={start}&to={end}&within={training.orgs[root]}"
            r = await training.client.get(query, headers=training.auth(["viewer"]))
            assert r.status_code == 200, r.text
            assert r.json()["training"] == expected(start, end, orgs), (start, end, root)
            assert r.json()["scope"] == {"id": str(training.orgs[root]), "name": f"Đảng bộ {root}"}
        whole = await training.client.get(
            f"/v1/stats/sector?from={start}&to={end}", headers=training.auth(["viewer"])
        )
        assert whole.json()["training"] == expected(start, end, subtrees["P"])
        assert whole.json()["period"] == {"from": start, "to": end} and whole.json()["scope"]["id"] is None
    scoped = await training.client.get(
        "/v1/stats/sector?from=2025-01-01&to=2026-12-31", headers=training.auth(["viewer"], "A")
    )
    assert scoped.json()["training"] == expected("2025-01-01", "2026-12-31", subtrees["A"])
    outside = f"/v1/stats/sector?from=2025-01-01&to=2026-12-31&within={training.orgs['B']}"
    assert (await training.client.get(outside, headers=training.auth(["viewer"], "A"))).status_code == 404
    backwards = await training.client.get(
        "/v1/stats/sector?from=2026-01-01&to=2025-01-01", headers=training.auth()
    )
    assert backwards.status_code == 422
