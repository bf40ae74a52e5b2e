from __future__ import annotations

from typing import Any

import httpx

from gateway.tests.conftest import GatewayFactory
from gateway.tests.upstream_app import free_port, serve, upstream_app


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _response_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return _resolve(doc, schema["$ref"])


async def test_one_document_with_the_services_paths_and_schemas(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    assert "/api/v1/documents/{document_id}" in paths  # orgs
    assert "/api/v1/cadres/{cadre_id}/qualifications" in paths  # training
    assert "/health/ready" in paths  # the gateway's own
    assert not any(p.startswith("/api/v1/stats") or p.startswith("/api/health") for p in paths)
    assert not any(p.startswith("/v1/") for p in paths)

    document = _response_schema(doc, "/api/v1/documents/{document_id}")
    qualifications = _response_schema(doc, "/api/v1/cadres/{cadre_id}/qualifications")
    # "Status" means different things in orgs and training: each keeps its own, namespaced.
    orgs_status = _resolve(doc, document["properties"]["status"]["$ref"])
    training_status = _resolve(doc, qualifications["properties"]["status"]["$ref"])
    assert set(orgs_status["properties"]) == {"code", "active"}
    assert set(training_status["properties"]) == {"level"}
    schemas = doc["components"]["schemas"]
    assert {"orgs__Status", "training__Status", "DocumentRead", "QualificationsRead"} <= set(schemas)
    assert "Status" not in schemas
    assert "SectorStats" not in schemas  # only what the forwarded paths use
    assert "HTTPValidationError" in schemas  # the same in every service: kept once, under its own name

    docs_page = await gateway.get("/api/docs")
    assert docs_page.status_code == 200
    assert "/api/openapi.json" in docs_page.text


async def test_a_down_service_is_left_out_and_added_when_it_answers(make_gateway: GatewayFactory) -> None:
    port = free_port()
    async with make_gateway(urls={"training": f"http://127.0.0.1:{port}"}) as gateway:
        doc = (await gateway.get("/api/openapi.json")).json()
        assert "/api/v1/documents/{document_id}" in doc["paths"]
        assert "/api/v1/cadres/{cadre_id}/qualifications" not in doc["paths"]
        assert "Status" in doc["components"]["schemas"]  # no clash while training is missing
        with serve(upstream_app("training"), port=port):
            doc = (await gateway.get("/api/openapi.json")).json()
        assert "/api/v1/cadres/{cadre_id}/qualifications" in doc["paths"]
        assert {"orgs__Status", "training__Status"} <= set(doc["components"]["schemas"])
