from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.tests.conftest import GatewayFactory

PROBLEM_JSON = "application/problem+json"
UPSTREAM_401 = b'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"bad token"}'


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
async def test_method_path_query_and_body_are_forwarded(gateway: httpx.AsyncClient, method: str) -> None:
    body = b'{"name": "\xc4\x90\xe1\xba\xa3ng u\xe1\xbb\xb7"}' if method not in ("GET", "DELETE") else b""
    response = await gateway.request(
        method,
        "/api/v1/organizations/abc/ratings/2024?as_of=2024-01-01&q=%C4%90%E1%BA%A3ng&tag=a&tag=b",
        content=body,
        headers={"Content-Type": "application/json"} if body else {},
    )
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["service"] == "orgs"
    assert echoed["method"] == method
    assert echoed["raw_path"] == "/v1/organizations/abc/ratings/2024"
    assert echoed["query"] == "as_of=2024-01-01&q=%C4%90%E1%BA%A3ng&tag=a&tag=b"
    assert echoed["body"].encode() == body


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/cadres/7/qualifications", "training"),
        ("/api/v1/cadres/7", "cadres"),
        ("/api/v1/personnel-actions:check", "cadres"),
        ("/api/v1/enrollments", "training"),
        ("/api/v1/coverage", "orgs"),
    ],
)
async def test_calls_reach_the_owning_service(gateway: httpx.AsyncClient, path: str, service: str) -> None:
    response = await gateway.post(path, json={})
    assert response.json()["service"] == service


@pytest.mark.parametrize(
    "path", ["/api/v1/stats/sector", "/api/v1/rules", "/api/v1/nothing", "/api/elsewhere"]
)
async def test_paths_that_are_not_forwarded_are_404_problems(gateway: httpx.AsyncClient, path: str) -> None:
    response = await gateway.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 404


async def test_request_headers_are_forwarded(gateway: httpx.AsyncClient) -> None:
    token = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.  odd-but-verbatim"
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = await gateway.patch(
        "/api/v1/organizations/1",
        content=b"{}",
        headers={
            "Authorization": token,
            "Content-Type": "application/merge-patch+json",
            "Accept": "application/json",
            "If-Match": '"3"',
            "If-None-Match": '"4"',
            "Idempotency-Key": "key-1",
            "X-Request-ID": "client-chosen-id",
            "traceparent": traceparent,
            "Cookie": "session=secret",
            "X-Custom": "dropped",
        },
    )
    sent = response.json()["headers"]
    assert sent["authorization"] == token
    assert sent["content-type"] == "application/merge-patch+json"
    assert sent["accept"] == "application/json"
    assert sent["if-match"] == '"3"'
    assert sent["if-none-match"] == '"4"'
    assert sent["idempotency-key"] == "key-1"
    assert sent["x-request-id"] == "client-chosen-id"
    assert sent["traceparent"] == traceparent
    assert "cookie" not in sent
    assert "x-custom" not in sent
    assert sent["host"].startswith("127.0.0.1:")  # the service's own host, not the client's
    assert response.headers["x-request-id"] == "client-chosen-id"


async def test_request_id_is_generated_echoed_and_passed_on(gateway: httpx.AsyncClient) -> None:
    first = await gateway.get("/api/v1/members")
    second = await gateway.get("/api/v1/members", headers={"X-Request-ID": "bad id\twith spaces"})
    for response in (first, second):
        generated = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        assert response.json()["headers"]["x-request-id"] == generated
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_response_headers_are_passed_back_and_location_rewritten(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/organizations/created", json={"code": "X"})
    assert response.status_code == 201
    assert response.json() == {"id": "123"}
    assert response.headers["location"] == "/api/v1/organizations/123"
    assert response.headers["etag"] == '"7"'
    assert response.headers["content-type"] == "application/json"
    assert "set-cookie" not in response.headers
    assert "x-internal" not in response.headers


async def test_an_upstream_problem_is_passed_through_unchanged(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/organizations/denied")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.content == UPSTREAM_401


async def test_a_service_that_is_down_is_a_quick_502_problem(make_gateway: GatewayFactory) -> None:
    async with make_gateway(down=("orgs",)) as gateway:
        for method in ("GET", "POST"):
            started = time.monotonic()
            response = await gateway.request(
                method, "/api/v1/organizations/1", headers={"X-Request-ID": "r-1"}
            )
            assert time.monotonic() - started < 1.0
            assert response.status_code == 502
            assert response.headers["content-type"] == PROBLEM_JSON
            problem = response.json()
            assert problem["type"] == "/problems/upstream-unavailable"
            assert problem["service"] == "orgs"
            assert problem["request_id"] == "r-1"
            assert problem["instance"] == "/api/v1/organizations/1"
            assert "Traceback" not in response.text
        # the other services still answer
        assert (await gateway.get("/api/v1/posts")).status_code == 200


async def test_a_service_slower_than_the_deadline_is_a_504_problem(make_gateway: GatewayFactory) -> None:
    async with make_gateway(upstream_timeout=0.5) as gateway:
        started = time.monotonic()
        response = await gateway.get("/api/v1/organizations/slow?seconds=3")
        elapsed = time.monotonic() - started
        assert 0.5 <= elapsed < 0.8
        assert response.status_code == 504
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["type"] == "/problems/upstream-timeout"
        assert response.json()["service"] == "orgs"
        # the pool is still usable after an abandoned call
        assert (await gateway.get("/api/v1/organizations/slow?seconds=0")).status_code == 200


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 65536):
        yield b"x" * 65536


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_over_1_mib_is_refused_with_413(gateway: httpx.AsyncClient, chunked: bool) -> None:
    size = 2 * 1024 * 1024
    content = _chunks(size) if chunked else b"x" * size
    response = await gateway.post("/api/v1/organizations", content=content)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 413


async def test_a_body_of_exactly_1_mib_is_forwarded(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/documents", content=b"y" * (1024 * 1024))
    assert response.status_code == 200
    assert len(response.json()["body"]) == 1024 * 1024


async def test_cors_allows_the_configured_origins(make_gateway: GatewayFactory) -> None:
    async with make_gateway(cors_origins="http://localhost:5173") as gateway:
        preflight = await gateway.options(
            "/api/v1/organizations",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
        response = await gateway.get("/api/v1/organizations", headers={"Origin": "http://localhost:5173"})
        assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
        other = await gateway.get("/api/v1/organizations", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_every_answer_carries_the_gateways_own_time(gateway: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await gateway.get("/api/v1/organizations/slow", params={"seconds": "0.2"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    match = re.fullmatch(r"gateway;dur=(\d+\.\d)", response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    assert 200 <= float(match.group(1)) <= elapsed_ms
    missing = await gateway.get("/api/nothing")
    assert missing.status_code == 404 and missing.headers["server-timing"].startswith("gateway;dur=")
