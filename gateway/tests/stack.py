"""The real orgs and cadres apps behind an in-process gateway, each served over real HTTP on the test's loop,
and a stand-in training service shaped as api.md describes it (so a test can make it slow or take it away).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@asynccontextmanager
async def serve_here(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Serve an (already started) ASGI app on this event loop; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await task
        sock.close()


COURSE = "7f4b1c7e-2f0e-4a51-9d35-0c8e1f3a5b01"
ENROLLMENT = "7f4b1c7e-2f0e-4a51-9d35-0c8e1f3a5b02"
PROGRAMME = "7f4b1c7e-2f0e-4a51-9d35-0c8e1f3a5b03"
ORG = "7f4b1c7e-2f0e-4a51-9d35-0c8e1f3a5b04"


@dataclass
class FakeTraining:
    """What the stand-in answers, how slowly, and what it was sent."""

    delay: float = 0.0
    seen: list[dict[str, str]] = field(default_factory=list)
    enrollment_status: str = "completed"  # another value ("graduated") is a shape the gateway does not know

    def app(self) -> FastAPI:
        app = FastAPI(title="training")

        async def pause(request: Request) -> None:
            self.seen.append(
                {
                    "path": request.url.path,
                    "query": request.url.query,
                    **{k: v for k, v in request.headers.items() if k in ("authorization", "x-request-id")},
                }
            )
            if self.delay:
                await asyncio.sleep(self.delay)

        @app.get("/health/ready")
        async def ready() -> Response:
            return Response('{"status": "pass"}', media_type="application/health+json")

        @app.get("/v1/cadres/{cadre_id}/training")
        async def cadre_training(cadre_id: str, request: Request) -> Any:
            await pause(request)
            qualifications = {
                "cadre_id": cadre_id,
                "as_of": request.query_params.get("as_of") or "2026-01-15",
                "attained_theory_level": "advanced",
                "history": [
                    {"theory_level": "intermediate", "attained_on": None, "source": "declared",
                     "course_id": None, "enrollment_id": None, "certificate_no": None},
                    {"theory_level": "advanced", "attained_on": "2023-06-30", "source": "course",
                     "course_id": COURSE, "enrollment_id": ENROLLMENT, "certificate_no": "CC-2023-17"},
                ],
            }  # fmt: skip
            enrollment = {
                "id": ENROLLMENT, "course_id": COURSE, "cadre_id": cadre_id, "sent_by_org_id": ORG,
                "sent_on": "2022-09-01", "status": self.enrollment_status, "completed_on": "2023-06-30",
                "certificate_no": "CC-2023-17", "withdrawn_on": None, "withdrawal_reason": None,
                "programme_id": PROGRAMME, "programme_kind": "political_theory", "theory_level": "advanced",
                "findings": [], "findings_acknowledged": False, "acknowledgement_reason": None,
                "version": 2, "recorded_at": "2022-09-01T08:00:00Z",
            }  # fmt: skip
            return {
                "qualifications": qualifications,
                "enrollments": [enrollment],
                "enrollments_truncated": False,
                "training_needs": [],
            }

        @app.get("/v1/training-plans")
        async def plans(request: Request) -> Any:
            await pause(request)
            plan = {
                "year": 2024, "org_id": ORG, "org_name": "Đảng bộ xã", "programme_id": PROGRAMME,
                "programme_code": "CC-LLCT", "programme_name": "Cao cấp lý luận chính trị",
                "target": 5, "enrolled": 2, "completed": 1, "version": 1,
            }  # fmt: skip
            return {"items": [plan], "next_cursor": None}

        @app.get("/v1/stats/sector")
        async def sector(request: Request) -> Any:
            await pause(request)
            return JSONResponse(
                {
                    "training": {
                        "cadres_sent_by_theory_level": {"advanced": 441, "intermediate": 2945},
                        "cadres_sent_by_programme_kind": {"political_theory": 3386},
                        "completed_by_theory_level": {"advanced": 400},
                    }
                }
            )

        return app
