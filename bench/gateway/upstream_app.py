"""The benchmark's stand-in service: ``GET /v1/organizations/{id}`` answers a ~1 KB JSON organization."""

from __future__ import annotations

import json

from fastapi import FastAPI, Response

app = FastAPI(title="bench-upstream")

_TEMPLATE = {
    "id": "",
    "code": "NA.DU.001.017",
    "name": "Đảng bộ Công ty Cổ phần Xây dựng và Thương mại Nghệ An",
    "level": "grassroots_committee",
    "kind": "private_enterprise",
    "status": "active",
    "parent_id": "6f1c2a7e-3b9d-4c1f-9a2e-1d5b7c8e9f01",
    "path": [
        "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "6f1c2a7e-3b9d-4c1f-9a2e-1d5b7c8e9f01",
    ],
    "tags": ["enterprise", "non-state", "construction"],
    "established_on": "2021-06-15",
    "decision_no": "1234-QĐ/TU",
    "decided_on": "2021-06-10",
    "version": 7,
    "members": {"probationary": 12, "official": 143, "exempt": 4},
    "children": {"grassroots_cell": 9},
    "note": "Thành lập theo Kế hoạch phát triển tổ chức đảng trong doanh nghiệp ngoài khu vực nhà nước " * 3,
}


@app.get("/v1/organizations/{org_id}")
async def get_organization(org_id: str) -> Response:
    body = json.dumps({**_TEMPLATE, "id": org_id}, ensure_ascii=False).encode()
    return Response(body, media_type="application/json", headers={"ETag": '"7"', "Cache-Control": "no-store"})


@app.get("/health/live")
async def live() -> Response:
    return Response('{"status": "pass"}', media_type="application/health+json")
