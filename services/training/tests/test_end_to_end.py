"""orgs, cadres and training on one real NATS server, sharing a data dir (and so the development key).

A cadre appointed (a personnel action in cadres) to a post that requires advanced political theory appears
in training's needs once cadres' events reach training; after completing an advanced course they leave it,
and cadres' planning coverage counts them as ready once ``training.qualification.attained`` reaches cadres.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from services.cadres.app import create_app as create_cadres
from services.cadres.tests.conftest import add_org
from services.orgs.app import create_app as create_orgs
from services.training.app import create_app as create_training


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "not within the deadline"
        await asyncio.sleep(0.1)


def asgi(app: Any, name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


async def test_appointed_cadre_needs_training_then_is_ready(run_service: Any, tmp_path: Path) -> None:
    shared_dir = tmp_path / "data"
    async with (
        run_service("orgs", create_orgs, data_dir=shared_dir) as orgs,
        run_service("cadres", create_cadres, data_dir=shared_dir) as cadres,
        run_service("training", create_training, data_dir=shared_dir) as training,
    ):
        for svc in (cadres, training):
            await svc.app.state.org_directory.client.aclose()
            svc.app.state.org_directory.client = asgi(orgs.app, "orgs")
        await training.app.state.cadre_directory.client.aclose()
        training.app.state.cadre_directory.client = asgi(cadres.app, "cadres")
        personnel, trainer = cadres.auth(["personnel"]), training.auth(["trainer"])

        province = await add_org(orgs, "E2E", "province")
        district = await add_org(orgs, "E2E.H", "upper_grassroots", province)
        r = await cadres.client.post(
            "/v1/cadres",
            headers=personnel,
            json={
                "full_name": "Nguyễn Văn Minh",
                "birth_date": "1978-04-02",
                "gender": "male",
                "org_id": district,
                "education": "master",
                "declared_theory_level": "intermediate",
            },
        )
        assert r.status_code == 201, r.text
        cadre = r.json()["id"]
        posts = {}
        for key, org, title in (
            ("held", district, "Bí thư Huyện ủy"),
            ("planned", province, "Phó Bí thư Tỉnh ủy"),
        ):
            r = await cadres.client.post(
                "/v1/posts",
                headers=personnel,
                json={
                    "org_id": org,
                    "title": title,
                    "category": "secretary" if key == "held" else "deputy_secretary",
                    "requirements": {"theory_level": "advanced"},
                },
            )
            assert r.status_code == 201, r.text
            posts[key] = r.json()["id"]
        r = await cadres.client.post(
            "/v1/plans",
            headers=personnel,
            json={
                "cadre_id": cadre,
                "post_id": posts["planned"],
                "term": "2025-2030",
                "added_on": "2025-01-10",
                "acknowledged_findings": {"reason": "Ban Thường vụ quyết định"},
            },
        )
        assert r.status_code == 201, r.text
        r = await cadres.client.post(
            "/v1/personnel-actions",
            headers=personnel,
            json={
                "kind": "appointment",
                "cadre_id": cadre,
                "post_id": posts["held"],
                "decision_no": "15-QĐ/TU",
                "decided_on": "2025-02-20",
                "effective_on": "2025-03-01",
                "acknowledged_findings": {"reason": "Ban Thường vụ quyết định"},
            },
        )
        assert r.status_code == 201, r.text

        async def needs(as_of: str) -> list[dict[str, Any]]:
            r = await training.client.get(f"/v1/training-needs?as_of={as_of}", headers=trainer)
            assert r.status_code == 200, r.text
            return list(r.json()["items"])

        async def in_need() -> bool:
            items = await needs("2025-09-01")
            return bool(items) and {p["relation"] for p in items[0]["posts"]} == {"held", "planned"}

        await eventually(in_need)
        (item,) = await needs("2025-09-01")
        assert item["cadre_id"] == cadre and item["attained_theory_level"] == "intermediate"
        assert item["required_theory_level"] == "advanced"

        r = await training.client.post(
            "/v1/programmes",
            headers=trainer,
            json={
                "code": "CC",
                "name": "Cao cấp lý luận chính trị",
                "kind": "political_theory",
                "theory_level": "advanced",
            },
        )
        programme = r.json()["id"]
        r = await training.client.post(
            "/v1/courses",
            headers=trainer,
            json={
                "programme_id": programme,
                "code": "CC-2025",
                "name": "Cao cấp K1",
                "provider": "Học viện Khu vực",
                "mode": "full_time",
                "starts_on": "2025-09-15",
                "ends_on": "2026-06-30",
                "capacity": 40,
            },
        )
        course = r.json()["id"]
        r = await training.client.post(
            "/v1/enrollments",
            headers=trainer,
            json={
                "course_id": course,
                "cadre_id": cadre,
                "sent_by_org_id": district,
                "sent_on": "2025-09-10",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["findings"] == []  # holds a leadership post of an upper-grassroots organization
        enrollment = r.json()["enrollment"]["id"]
        r = await training.client.post(
            f"/v1/enrollments/{enrollment}/completion",
            headers=trainer,
            json={"completed_on": "2026-06-30", "result": "completed", "certificate_no": "CC-001"},
        )
        assert r.status_code == 200, r.text
        assert await needs("2026-07-01") == []
        assert [i["cadre_id"] for i in await needs("2026-06-29")] == [cadre]

        async def ready() -> bool:
            r = await cadres.client.get(
                f"/v1/plans/coverage?term=2025-2030&as_of=2026-07-01&within={province}", headers=personnel
            )
            assert r.status_code == 200, r.text
            return bool(r.json()["totals"]["ready_candidates"] == 1)

        await eventually(ready)
