"""The HTTP side of the kit on a tiny app: unit of work, idempotency, problems, limits, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select
from sqlalchemy.orm import Session

from shared.auth import CurrentPrincipal, TokenVerifier, load_or_create_dev_key, mint_token
from shared.db import Database
from shared.idempotency import idempotency_keys
from shared.observability import CheckResult, HttpMetrics, RequestContextMiddleware, health_router
from shared.problems import Problem, install_problem_handlers
from shared.settings import CommonSettings, sqlite_url
from shared.uow import SessionDep, UnitOfWorkRoute

meta = MetaData()
notes = Table("notes", meta, Column("id", Integer, primary_key=True), Column("text", String(100)))


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


def build_app(db: Database, settings: CommonSettings, ready: list[CheckResult]) -> FastAPI:
    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.post("/notes", status_code=201)
    async def create(body: NoteIn, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
        result = await session.execute(insert(notes).values(text=body.text).returning(notes.c.id))
        note_id = result.scalar_one()
        await asyncio.sleep(0.05)  # widen the window for concurrent duplicates
        if body.text == "explode":
            raise RuntimeError("boom")
        if body.text == "refuse":
            raise Problem(422, "refused on purpose", slug="refused")
        return {"id": note_id, "text": body.text}

    @router.get("/notes/count")
    async def count(session: SessionDep) -> dict[str, int]:
        return {"count": (await session.execute(select(func.count()).select_from(notes))).scalar_one()}

    async def check(_request: Request) -> list[CheckResult]:
        return ready

    app = FastAPI()
    registry = CollectorRegistry()
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(health_router(service_id="t", version="1", checks=[check], registry=registry))
    app.state.db = db
    app.state.verifier = TokenVerifier(settings)
    return app


@pytest.fixture
async def kit(
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, Database, dict[str, str], list[CheckResult]]]:
    import shared.idempotency  # noqa: F401

    db = Database(sqlite_url(tmp_path / "kit.db"))
    async with db.engine.begin() as conn:
        await conn.run_sync(meta.create_all)
        await conn.run_sync(idempotency_keys.metadata.create_all)
    settings = CommonSettings(data_dir=tmp_path)
    token = mint_token(load_or_create_dev_key(settings.dev_key_path), sub="t", roles=["admin"])
    ready: list[CheckResult] = []
    app = build_app(db, settings, ready)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        yield client, db, {"Authorization": f"Bearer {token}"}, ready
    await db.dispose()


async def _count(client: httpx.AsyncClient, h: dict[str, str]) -> int:
    return int((await client.get("/notes/count", headers=h)).json()["count"])


async def test_a_write_is_committed_before_the_answer(kit: Any) -> None:
    client, _db, h, _ = kit
    r = await client.post("/notes", json={"text": "a"}, headers=h)
    assert r.status_code == 201
    assert await _count(client, h) == 1


async def test_a_failed_commit_is_a_500_problem_and_nothing_is_written(kit: Any) -> None:
    client, _db, h, _ = kit

    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("disk full")

    event.listen(Session, "before_commit", refuse_commit)
    try:
        r = await client.post("/notes", json={"text": "lost?"}, headers=h)
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert "disk full" not in r.text and "Traceback" not in r.text
    assert await _count(client, h) == 0


@pytest.mark.parametrize(("text", "status"), [("explode", 500), ("refuse", 422)])
async def test_an_error_rolls_everything_back(kit: Any, text: str, status: int) -> None:
    client, _db, h, _ = kit
    r = await client.post("/notes", json={"text": text}, headers=h)
    assert r.status_code == status and r.json()["status"] == status and r.json()["request_id"]
    assert await _count(client, h) == 0


async def test_concurrent_requests_with_one_idempotency_key_write_once(kit: Any) -> None:
    client, _db, h, _ = kit
    headers = {**h, "Idempotency-Key": "same"}
    answers = await asyncio.gather(
        *[client.post("/notes", json={"text": "x"}, headers=headers) for _ in range(5)]
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _count(client, h) == 1


async def test_problems_for_unknown_routes_methods_and_fields(kit: Any) -> None:
    client, _db, h, _ = kit
    r = await client.get("/nowhere", headers=h)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found")
    r = await client.delete("/notes", headers=h)
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/notes", json={"text": "a", "id": 7}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "id"]


async def test_readiness_reflects_the_worst_check(kit: Any) -> None:
    client, _db, _h, ready = kit
    ready[:] = [CheckResult("database:responseTime", "pass", 1.0, "ms")]
    assert (await client.get("/health/ready")).json()["status"] == "pass"
    ready.append(CheckResult("nats:connected", "warn", False))
    r = await client.get("/health/ready")
    assert r.status_code == 200 and r.json()["status"] == "warn"
    ready.append(CheckResult("outbox:backlog", "fail", None, output="db gone"))
    r = await client.get("/health/ready")
    assert r.status_code == 503 and r.json()["status"] == "fail"
    assert r.json()["checks"]["outbox:backlog"][0]["output"] == "db gone"
