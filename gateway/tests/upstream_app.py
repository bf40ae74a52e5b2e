"""A small stand-in for a service, served over real HTTP by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

ECHOED_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "if-match",
    "if-none-match",
    "idempotency-key",
    "x-request-id",
    "traceparent",
    "cookie",
    "host",
    "x-custom",
)


class SectorStats(BaseModel):
    members: int


def upstream_app(service: str) -> FastAPI:
    app = FastAPI(title=service)
    # Two services define a schema of the same name ("Status") differently: the gateway must keep both.
    if service == "orgs":
        status: Any = create_model("Status", code=(str, ...), active=(bool, ...))
        document: Any = create_model("DocumentRead", id=(str, ...), number=(str, ...), status=(status, ...))
    else:
        status = create_model("Status", level=(int, ...))
        qualifications: Any = create_model(
            "QualificationsRead", attained_theory_level=(str | None, ...), status=(status, ...)
        )

    @app.get("/health/ready")
    async def ready() -> Response:
        return Response('{"status": "pass"}', media_type="application/health+json")

    @app.get("/v1/stats/sector")
    async def sector() -> SectorStats:
        return SectorStats(members=1)

    if service == "orgs":

        @app.get("/v1/documents/{document_id}", response_model=document)
        async def get_document(document_id: str) -> Any:
            return {"id": document_id, "number": "1-NQ/TU", "status": {"code": "x", "active": True}}

    if service == "training":

        @app.get("/v1/cadres/{cadre_id}/qualifications", response_model=qualifications)
        async def get_qualifications(cadre_id: str) -> Any:
            return {"attained_theory_level": "advanced", "status": {"level": 3}}

    @app.post("/v1/organizations/created", include_in_schema=False)
    async def created() -> Response:
        return JSONResponse(
            {"id": "123"},
            status_code=201,
            headers={
                "Location": "/v1/organizations/123",
                "ETag": '"7"',
                "Set-Cookie": "s=1",
                "X-Internal": "1",
            },
        )

    @app.get("/v1/organizations/denied", include_in_schema=False)
    async def denied() -> Response:
        return Response(
            b'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"bad token"}',
            status_code=401,
            media_type="application/problem+json",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    @app.get("/v1/organizations/slow", include_in_schema=False)
    async def slow(seconds: float = 2.0) -> Response:
        await asyncio.sleep(seconds)
        return JSONResponse({"slow": True})

    @app.api_route(
        "/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    async def echo(request: Request, path: str) -> Response:
        body = await request.body()
        return JSONResponse(
            {
                "service": service,
                "method": request.method,
                "raw_path": request.scope["raw_path"].decode(),
                "query": request.scope["query_string"].decode(),
                "body": body.decode(),
                "headers": {
                    name: request.headers.get(name) for name in ECHOED_HEADERS if name in request.headers
                },
            }
        )

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on ``port`` (default: a free one) in a background thread; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test upstream did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
