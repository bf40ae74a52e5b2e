"""Helpers of the units, documents and ratings tests: Party members through the members API."""

from __future__ import annotations

from typing import Any

from shared.testing.service import ServiceHarness

ADMITTED_ON = "2023-01-02"
RECOGNIZED_ON = "2024-01-03"  # 12 months of probation passed


async def add_member(
    svc: ServiceHarness,
    org_id: str,
    status: str = "official",
    *,
    unit_id: str | None = None,
    name: str = "Nguyễn Văn An",
    admitted_on: str = ADMITTED_ON,
    left_on: str | None = None,
) -> str:
    """A member of ``org_id`` (living in ``unit_id``) with the status, through the API; returns the id.

    ``exempt`` members are official first, exempted from 2024-06-01; ``left_on`` records a departure.
    """
    h = svc.auth(["admin"])
    body: dict[str, Any] = {
        "full_name": name,
        "birth_date": "1990-05-01",
        "gender": "male",
        "org_id": org_id,
        "admitted_on": admitted_on,
    }
    if unit_id is not None:
        body["residence_unit_id"] = unit_id
    r = await svc.client.post("/v1/members", json=body, headers=h)
    assert r.status_code == 201, r.text
    member_id: str = r.json()["id"]
    if status in ("official", "exempt"):
        r = await svc.client.post(
            f"/v1/members/{member_id}/recognition", json={"recognized_on": RECOGNIZED_ON}, headers=h
        )
        assert r.status_code == 200, r.text
    if status == "exempt":
        r = await svc.client.post(
            f"/v1/members/{member_id}/exemption",
            json={"effective_on": "2024-06-01", "reason": "tuổi cao, sức yếu"},
            headers=h,
        )
        assert r.status_code == 200, r.text
    if left_on is not None:
        r = await svc.client.post(
            f"/v1/members/{member_id}/departure",
            json={"reason": "withdrawn", "effective_on": left_on},
            headers=h,
        )
        assert r.status_code == 200, r.text
    return member_id
