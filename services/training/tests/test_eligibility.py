"""Eligibility per Regulation 350-QĐ/TW: every finding, the :check twin, refusal and acknowledgement."""

from __future__ import annotations

from typing import Any

from services.training.tests.support import Training

CHECK = "/v1/enrollments:check"


async def rules_found(
    training: Training, course: str, cadre: str, org: str = "X", sent_on: str = "2025-09-15"
) -> list[str]:
    r = await training.client.post(
        CHECK, json=training.enrollment(course, cadre, org, sent_on), headers=training.auth()
    )
    assert r.status_code == 200, r.text
    assert r.json()["enrollment"] is None
    return sorted(f["rule"] for f in r.json()["findings"])


async def test_intermediate_findings(training: Training) -> None:
    await training.tree()
    intermediate = await training.programme("political_theory", "intermediate")
    full_time = await training.course(intermediate)
    in_service = await training.course(intermediate, mode="in_service", starts_on="2025-10-01")
    ok = await training.cadre("X", "Đủ Điều Kiện")
    assert await rules_found(training, full_time, ok) == []
    assert await rules_found(training, in_service, ok) == []
    outsider = await training.cadre("X", "Quần Chúng", member=False)
    assert await rules_found(training, full_time, outsider) == ["enrollment.intermediate_party_member"]
    schooled = await training.cadre("X", "Trung Học", education="secondary")
    assert await rules_found(training, full_time, schooled) == ["enrollment.intermediate_min_education"]
    college = await training.cadre("X", "Cao Đẳng", education="college")
    assert await rules_found(training, full_time, college) == []
    # in service: from 30 (men) / 28 (women) on the day the course starts
    young_man = await training.cadre("X", "Trẻ Tuổi", birth_date="1995-10-02")  # 29 on 2025-10-01
    assert await rules_found(training, full_time, young_man) == []
    assert await rules_found(training, in_service, young_man) == [
        "enrollment.in_service_intermediate_min_age"
    ]
    man_30 = await training.cadre("X", "Ba Mươi", birth_date="1995-10-01")
    assert await rules_found(training, in_service, man_30) == []
    woman_28 = await training.cadre("X", "Hai Tám", gender="female", birth_date="1997-10-01")
    assert await rules_found(training, in_service, woman_28) == []
    woman_27 = await training.cadre("X", "Hai Bảy", gender="female", birth_date="1997-10-02")
    assert await rules_found(training, in_service, woman_27) == ["enrollment.in_service_intermediate_min_age"]
    # already intermediate (declared) — and higher
    for level in ("intermediate", "advanced"):
        holder = await training.cadre("X", f"Đã Có {level}", level=level)
        assert await rules_found(training, full_time, holder) == ["enrollment.not_already_attained"]
    # everything at once
    every = await training.cadre(
        "X", "Mọi Lỗi", member=False, education="secondary", level="bachelor", birth_date="2000-01-01"
    )
    assert await rules_found(training, in_service, every) == [
        "enrollment.in_service_intermediate_min_age",
        "enrollment.intermediate_min_education",
        "enrollment.intermediate_party_member",
        "enrollment.not_already_attained",
    ]
    # before the regulation applies, nothing is checked; other kinds are never checked
    assert await rules_found(training, in_service, every, sent_on="2025-08-31") == []
    fostering = await training.course(await training.programme("fostering", None))
    assert await rules_found(training, fostering, every) == []


async def test_advanced_needs_a_leadership_post_held_or_planned(training: Training) -> None:
    await training.tree()
    course = await training.course(await training.programme("political_theory", "advanced"))
    rule = ["enrollment.advanced_posts"]
    nobody = await training.cadre("X", "Không Chức Vụ", level="intermediate")
    assert await rules_found(training, course, nobody) == rule
    district = await training.cadre("X", "Bí Thư Huyện", level="intermediate")
    await training.hold(district, await training.post("A", "Bí thư Huyện ủy A"), "A", "2024-01-01")
    assert await rules_found(training, course, district) == []
    commune = await training.cadre("X", "Bí Thư Xã", level="intermediate")
    await training.hold(commune, await training.post("X", "Bí thư Đảng ủy xã"), "X", "2024-01-01")
    assert await rules_found(training, course, commune) == rule  # grassroots: not enough
    ended = await training.cadre("X", "Đã Thôi", level="intermediate")
    await training.hold(
        ended, await training.post("A", "Phó Bí thư", "deputy_secretary"), "A", "2020-01-01", "2025-09-01"
    )
    assert await rules_found(training, course, ended) == rule  # no longer held on sent_on
    assert (
        await rules_found(training, course, ended, sent_on="2025-08-31") == []
    )  # but rules not in force then
    planned = await training.cadre("X", "Quy Hoạch", level="intermediate")
    await training.plan(
        planned, await training.post("P", "Ủy viên Ban Thường vụ Tỉnh ủy", "standing_member"), "2025-01-01"
    )
    assert await rules_found(training, course, planned) == []
    removed = await training.cadre("X", "Đưa Ra", level="intermediate")
    await training.plan(removed, await training.post("P", "Chủ tịch", "chair"), "2025-01-01", "2025-06-01")
    assert await rules_found(training, course, removed) == rule
    other = await training.cadre("X", "Chuyên Viên", level="intermediate")
    await training.hold(other, await training.post("P", "Chuyên viên", "other", None), "P", "2024-01-01")
    assert await rules_found(training, course, other) == rule


async def test_refused_unless_acknowledged(training: Training) -> None:
    await training.tree()
    course = await training.course(await training.programme("political_theory", "intermediate"))
    cadre = await training.cadre("X", "Quần Chúng", member=False)
    body: dict[str, Any] = training.enrollment(course, cadre, "X")
    r = await training.client.post("/v1/enrollments", json=body, headers=training.auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/rule-violation")
    assert [f["rule"] for f in r.json()["findings"]] == ["enrollment.intermediate_party_member"]
    assert r.json()["findings"][0]["source"] == "Quy định 350-QĐ/TW"
    assert (await training.client.get(f"/v1/courses/{course}", headers=training.auth())).json()[
        "enrolled"
    ] == 0
    body["acknowledged_findings"] = {"reason": "Ban Thường vụ quyết định cử đi học"}
    r = await training.client.post("/v1/enrollments", json=body, headers=training.auth())
    assert r.status_code == 201, r.text
    enrollment = r.json()["enrollment"]
    assert enrollment["findings_acknowledged"] is True
    assert enrollment["acknowledgement_reason"] == "Ban Thường vụ quyết định cử đi học"
    assert [f["rule"] for f in enrollment["findings"]] == ["enrollment.intermediate_party_member"]
    assert r.json()["findings"] == enrollment["findings"]
    # an acknowledgement with nothing to acknowledge is recorded as not needed
    fine = await training.cadre("X", "Đảng Viên")
    r = await training.client.post(
        "/v1/enrollments",
        json={**training.enrollment(course, fine, "X"), "acknowledged_findings": {"reason": "x"}},
        headers=training.auth(),
    )
    assert r.status_code == 201 and r.json()["enrollment"]["findings_acknowledged"] is False
