"""Succession planning: the rulebook's findings, refusals and acknowledgements, removal, disciplines,
coverage and readiness (a real ``training.qualification.attained.v1`` event through NATS)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.cadres.planning.models import AttainedLevel
from services.cadres.tests.planning_support import events_of, eventually, hold, new_cadre, new_post, tree
from shared.cloudevents import dumps, new_event
from shared.streams import ensure_stream

TERM = "2025-2030"


def plan_body(cadre: str, post: str, added_on: str = "2025-11-01", **extra: Any) -> dict[str, Any]:
    return {"cadre_id": cadre, "post_id": post, "term": TERM, "added_on": added_on, **extra}


def rules_of(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings]


async def test_plan_check_record_list_and_remove(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "PA")
    personnel = cadres.auth(["personnel"])
    an = await new_cadre(cadres, ids["X"], "Nguyễn Văn An")
    head_x = await new_post(cadres, ids["X"], "Trưởng ban", "head")
    secretary_a = await new_post(cadres, ids["A"], "Bí thư", "secretary")
    await hold(cadres, an, head_x, ids["X"], "2020-01-01")

    r = await cadres.client.post("/v1/plans:check", json=plan_body(an, secretary_a), headers=personnel)
    assert r.status_code == 200, r.text
    assert r.json() == {"plan": None, "findings": []}
    assert await events_of(cadres, "tochuc.cadres.plan.added.v1") == []  # a check writes nothing
    r = await cadres.client.post("/v1/plans", json=plan_body(an, secretary_a), headers=personnel)
    assert r.status_code == 201, r.text
    plan = r.json()["plan"]
    assert r.headers["location"] == f"/v1/plans/{plan['id']}"
    assert plan["term"] == TERM and plan["removed_on"] is None and plan["findings"] == []
    (added,) = await events_of(cadres, "tochuc.cadres.plan.added.v1")
    assert added["subject"] == plan["id"] and added["sequence"] == 1
    assert added["data"] == {
        "id": plan["id"], "cadre_id": an, "post_id": secretary_a, "term": TERM, "on": "2025-11-01",
        "reason": None,
    }  # fmt: skip

    again = await cadres.client.post("/v1/plans", json=plan_body(an, secretary_a), headers=personnel)
    assert again.status_code == 409 and again.json()["type"] == "/problems/already-planned"
    bad_term = await cadres.client.post(
        "/v1/plans", json={**plan_body(an, secretary_a), "term": "2025-2031"}, headers=personnel
    )
    assert bad_term.status_code == 422 and bad_term.json()["type"] == "/problems/invalid-term"
    malformed = await cadres.client.post(
        "/v1/plans", json={**plan_body(an, secretary_a), "term": "2025"}, headers=personnel
    )
    assert malformed.status_code == 422
    viewer = await cadres.client.post(
        "/v1/plans", json=plan_body(an, secretary_a), headers=cadres.auth(["viewer"])
    )
    assert viewer.status_code == 403
    outside = await cadres.client.post(
        "/v1/plans", json=plan_body(an, secretary_a), headers=cadres.auth(["personnel"], org_scope=ids["B"])
    )
    assert outside.status_code == 404

    listed = await cadres.client.get(
        "/v1/plans", params={"term": TERM, "as_of": "2026-01-01"}, headers=personnel
    )
    assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]
    before = await cadres.client.get("/v1/plans", params={"as_of": "2025-10-31"}, headers=personnel)
    assert before.json()["items"] == []
    scoped = await cadres.client.get(
        "/v1/plans", params={"history": "true"}, headers=cadres.auth(["viewer"], org_scope=ids["B"])
    )
    assert scoped.json()["items"] == []
    hidden = await cadres.client.get(
        f"/v1/plans/{plan['id']}", headers=cadres.auth(["viewer"], org_scope=ids["B"])
    )
    assert hidden.status_code == 404

    removal = {"removed_on": "2026-12-31", "reason": "Annual review: no longer suitable"}
    r = await cadres.client.post(f"/v1/plans/{plan['id']}/removal", json=removal, headers=personnel)
    assert r.status_code == 200, r.text
    assert r.json()["removed_on"] == "2026-12-31" and r.json()["removal_reason"] == removal["reason"]
    twice = await cadres.client.post(f"/v1/plans/{plan['id']}/removal", json=removal, headers=personnel)
    assert twice.status_code == 409
    (removed,) = await events_of(cadres, "tochuc.cadres.plan.removed.v1")
    assert removed["sequence"] == 2 and removed["data"]["on"] == "2026-12-31"
    assert removed["data"]["reason"] == removal["reason"]
    in_2027 = await cadres.client.get("/v1/plans", params={"as_of": "2027-01-01"}, headers=personnel)
    assert in_2027.json()["items"] == []
    # Removed, the cadre may be planned for the post again.
    r = await cadres.client.post(
        "/v1/plans", json=plan_body(an, secretary_a, "2027-02-01"), headers=personnel
    )
    assert r.status_code == 201, r.text


async def test_higher_post_only_refused_then_acknowledged(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "PB")
    personnel = cadres.auth(["personnel"])
    binh = await new_cadre(cadres, ids["A"], "Trần Thị Bình")
    secretary_a = await new_post(cadres, ids["A"], "Bí thư", "secretary")
    deputy_a = await new_post(cadres, ids["A"], "Phó Bí thư", "deputy_secretary")
    chair_b = await new_post(cadres, ids["B"], "Chủ tịch", "chair")
    deputy_p = await new_post(cadres, ids["P"], "Phó Bí thư Tỉnh ủy", "deputy_secretary")
    await hold(cadres, binh, deputy_a, ids["A"], "2021-01-01")

    for lower_or_same in (deputy_a, chair_b):  # the same post; a lower category at the same level
        r = await cadres.client.post(
            "/v1/plans:check", json=plan_body(binh, lower_or_same), headers=personnel
        )
        assert rules_of(r.json()["findings"]) == ["planning.higher_post_only"], r.text
        finding = r.json()["findings"][0]
        assert finding["source"] == "Quy định 377-QĐ/TW" and finding["severity"] == "error"
    refused = await cadres.client.post("/v1/plans", json=plan_body(binh, chair_b), headers=personnel)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/rule-violation"
    assert rules_of(refused.json()["findings"]) == ["planning.higher_post_only"]
    # Higher: a higher category at the same level, or any post at a higher level.
    for higher in (secretary_a, deputy_p):
        r = await cadres.client.post("/v1/plans:check", json=plan_body(binh, higher), headers=personnel)
        assert r.json()["findings"] == [], r.text
    # Before 377-QĐ/TW, the rule of 50-QĐ/TW answers (same rule, its own source).
    old = await cadres.client.post(
        "/v1/plans:check", json=plan_body(binh, chair_b, "2024-05-01"), headers=personnel
    )
    assert [f["source"] for f in old.json()["findings"]] == ["Quy định 50-QĐ/TW"]

    acknowledged = plan_body(binh, chair_b, acknowledged_findings={"reason": "Rotation to strengthen B"})
    r = await cadres.client.post("/v1/plans", json=acknowledged, headers=personnel)
    assert r.status_code == 201, r.text
    plan = r.json()["plan"]
    assert rules_of(plan["findings"]) == ["planning.higher_post_only"]
    assert plan["acknowledged_reason"] == "Rotation to strengthen B"
    (added,) = await events_of(cadres, "tochuc.cadres.plan.added.v1")
    assert added["data"]["reason"] == "Rotation to strengthen B"


async def test_limits_per_post_and_per_cadre_at_one_level(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "PC")
    personnel = cadres.auth(["personnel"])
    secretary_a = await new_post(cadres, ids["A"], "Bí thư", "secretary")
    four = [await new_cadre(cadres, ids["X"], f"Cán bộ {i}") for i in range(4)]
    for cadre in four[:3]:
        r = await cadres.client.post("/v1/plans", json=plan_body(cadre, secretary_a), headers=personnel)
        assert r.status_code == 201, r.text
    fourth = await cadres.client.post("/v1/plans", json=plan_body(four[3], secretary_a), headers=personnel)
    assert fourth.status_code == 422
    assert rules_of(fourth.json()["findings"]) == ["planning.max_candidates_per_post"]
    assert "3" in fourth.json()["findings"][0]["message"]
    # Another term is another plan.
    r = await cadres.client.post(
        "/v1/plans:check", json={**plan_body(four[3], secretary_a), "term": "2030-2035"}, headers=personnel
    )
    assert r.json()["findings"] == []

    cuong = four[3]
    upper = [
        await new_post(cadres, ids["A"], "Phó Bí thư", "deputy_secretary"),
        await new_post(cadres, ids["B"], "Bí thư", "secretary"),
        await new_post(cadres, ids["B"], "Chủ tịch", "chair"),
        await new_post(cadres, ids["A"], "Chủ tịch", "chair"),
    ]
    for post in upper[:3]:
        r = await cadres.client.post("/v1/plans", json=plan_body(cuong, post), headers=personnel)
        assert r.status_code == 201, r.text
    r = await cadres.client.post("/v1/plans:check", json=plan_body(cuong, upper[3]), headers=personnel)
    assert rules_of(r.json()["findings"]) == ["planning.max_posts_per_cadre_same_level"]
    province_post = await new_post(cadres, ids["P"], "Ủy viên Ban Thường vụ", "standing_member")
    r = await cadres.client.post("/v1/plans:check", json=plan_body(cuong, province_post), headers=personnel)
    assert r.json()["findings"] == []  # another level


async def publish_attained(cadres: Any, cadre_id: str, level: str, on: str) -> str:
    js = cadres.app.state.nats.js
    await ensure_stream(js, "training")
    event = new_event(
        service="training",
        type="training.qualification.attained.v1",
        subject=cadre_id,
        data={"cadre_id": cadre_id, "theory_level": level, "attained_on": on},
        sequence=1,
        request_id=None,
    )
    await js.publish(
        "tochuc.training.qualification.attained.v1",
        dumps(event).encode(),
        headers={"Nats-Msg-Id": event["id"]},
    )
    return str(event["id"])


async def test_coverage_and_readiness_follow_qualifications_and_disciplines(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "PD")
    personnel = cadres.auth(["personnel"])
    secretary_a = await new_post(
        cadres, ids["A"], "Bí thư", "secretary", theory_level="advanced", min_years_in_prior_post=2
    )
    deputy_a = await new_post(cadres, ids["A"], "Phó Bí thư", "deputy_secretary", theory_level="intermediate")
    await new_post(cadres, ids["B"], "Bí thư", "secretary")  # nobody planned
    head_x = await new_post(cadres, ids["X"], "Trưởng ban", "head")
    dung = await new_cadre(cadres, ids["X"], "Lê Văn Dũng", level="intermediate")
    em = await new_cadre(cadres, ids["X"], "Phạm Thị Em", level="advanced")
    await hold(cadres, dung, head_x, ids["X"], "2022-03-01")
    for cadre, post in ((dung, secretary_a), (dung, deputy_a), (em, secretary_a)):
        r = await cadres.client.post("/v1/plans", json=plan_body(cadre, post), headers=personnel)
        assert r.status_code == 201, r.text

    async def coverage(as_of: str, **params: Any) -> dict[str, Any]:
        r = await cadres.client.get(
            "/v1/plans/coverage",
            params={"term": TERM, "as_of": as_of, **params},
            headers=cadres.auth(["viewer"]),
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def per_post(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
        return {i["post_id"]: (i["planned"], i["ready"]) for i in report["items"]}

    # Dũng: intermediate (not advanced), 3 years in post: ready for the deputy post only. Em: advanced but
    # holds no post (0 years in a prior post): not ready for the secretary post.
    report = await coverage("2026-01-01")
    assert per_post(report)[secretary_a] == (2, 0) and per_post(report)[deputy_a] == (1, 1)
    assert report["totals"] == {
        "posts": 4, "posts_without_candidate": 2, "posts_with_one": 1, "candidates": 2, "ready_candidates": 1
    }  # fmt: skip
    within_b = await coverage("2026-01-01", within=ids["B"])
    assert within_b["totals"]["posts"] == 1 and within_b["totals"]["posts_without_candidate"] == 1

    # Training reports that Dũng attained the advanced level on 2026-01-10.
    event_id = await publish_attained(cadres, dung, "advanced", "2026-01-10")

    async def applied() -> bool:
        async with cadres.app.state.db.session() as s:
            return (
                await s.execute(select(AttainedLevel).where(AttainedLevel.event_id == event_id))
            ).first() is not None

    await eventually(applied, seconds=30)
    assert per_post(await coverage("2026-01-09"))[secretary_a] == (2, 0)  # not yet attained that day
    report = await coverage("2026-02-01")
    assert per_post(report)[secretary_a] == (2, 1)
    assert report["totals"]["ready_candidates"] == 1  # the same cadre, now ready for both posts

    # A warning on Dũng: out of both plans on the decision's day, and barred from being planned for 30 months.
    r = await cadres.client.post(
        f"/v1/cadres/{dung}/disciplines",
        json={"measure": "warning", "decided_on": "2026-03-01", "decision_no": "15-QĐ/UBKT"},
        headers=personnel,
    )
    assert r.status_code == 201, r.text
    assert r.json()["plans_removed"] == 2
    removed = await events_of(cadres, "tochuc.cadres.plan.removed.v1")
    assert len(removed) == 2
    assert all(
        e["data"]["on"] == "2026-03-01" and e["data"]["reason"].startswith("discipline") for e in removed
    )
    report = await coverage("2026-03-02")
    assert per_post(report)[secretary_a] == (1, 0) and per_post(report)[deputy_a] == (0, 0)
    assert report["totals"]["candidates"] == 1 and report["totals"]["ready_candidates"] == 0
    assert per_post(await coverage("2026-02-28"))[secretary_a] == (2, 1)  # history stays

    r = await cadres.client.post(
        "/v1/plans:check", json=plan_body(dung, deputy_a, "2026-06-01"), headers=personnel
    )
    assert rules_of(r.json()["findings"]) == ["planning.disciplinary_bar"]
    assert "2028-09-01" in r.json()["findings"][0]["message"]
    r = await cadres.client.post(
        "/v1/plans:check", json=plan_body(dung, deputy_a, "2028-09-01"), headers=personnel
    )
    assert r.json()["findings"] == []

    listed = await cadres.client.get(f"/v1/cadres/{dung}/disciplines", headers=cadres.auth(["viewer"]))
    assert [d["measure"] for d in listed.json()["items"]] == ["warning"]
    forbidden = await cadres.client.post(
        f"/v1/cadres/{em}/disciplines",
        json={"measure": "reprimand", "decided_on": "2026-03-01", "decision_no": "1"},
        headers=cadres.auth(["viewer"]),
    )
    assert forbidden.status_code == 403
    outside = await cadres.client.get(
        f"/v1/cadres/{dung}/disciplines", headers=cadres.auth(["personnel"], org_scope=ids["B"])
    )
    assert outside.status_code == 404
    unknown = await cadres.client.get(f"/v1/cadres/{uuid.uuid4()}/disciplines", headers=personnel)
    assert unknown.status_code == 404
