from __future__ import annotations

import importlib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.tests.conftest import GatewayFactory
from gateway.tests.upstream_app import free_port, serve, upstream_app
from shared.settings import ServiceSettings, sqlite_url
from shared.supervisor import installed_services


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


# --- the contract: every endpoint of every installed service is described at the gateway -------------------

# Service paths the gateway answers itself (composed) or that are operations endpoints, not the API.
NOT_FORWARDED = ("/v1/stats/sector", "/v1/rules")


def _service_documents(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The OpenAPI document of each service installed in this build (``services/<name>/app.py``)."""
    documents = {}
    for name in installed_services():
        module = importlib.import_module(f"services.{name}.app")
        settings = ServiceSettings.load(
            name, env="test", data_dir=tmp_path / name, database_url=sqlite_url(tmp_path / f"{name}.db")
        )
        documents[name] = module.create_app(settings, run_workers=False).openapi()
    return documents


def _static_app(document: dict[str, Any]) -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.get("/openapi.json")
    async def openapi() -> dict[str, Any]:
        return document

    return app


async def test_every_endpoint_of_every_installed_service_is_described_at_the_gateway(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    documents = _service_documents(tmp_path)
    assert {"orgs", "cadres"} <= set(documents)
    with ExitStack() as stack:
        urls = {name: stack.enter_context(serve(_static_app(doc))) for name, doc in documents.items()}
        async with make_gateway(urls=urls) as gateway:
            merged = (await gateway.get("/api/openapi.json")).json()
    missing = []
    for name, document in documents.items():
        for path, item in document["paths"].items():
            if not path.startswith("/v1/") or path in NOT_FORWARDED:
                continue
            for method in set(item) & {"get", "post", "put", "patch", "delete"}:
                described = merged["paths"].get("/api" + path, {}).get(method)
                if described is None or described.get("operationId") != item[method].get("operationId"):
                    missing.append(f"{name}: {method.upper()} {path}")
    assert missing == [], "service endpoints the gateway does not forward or describe"


async def test_the_composed_endpoints_have_real_schemas(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/api/openapi.json")).json()
    for path, model in (
        ("/api/v1/cadres/{cadre_id}/profile", "ProfileAnswer"),
        ("/api/v1/organizations/{org_id}/overview", "OverviewAnswer"),
        ("/api/v1/reports/sector", "SectorReportAnswer"),
    ):
        schema = _response_schema(doc, path)
        assert schema == doc["components"]["schemas"][model]
        assert set(schema["properties"]) == {"data", "partial", "errors"}
        data = _resolve(doc, schema["properties"]["data"]["$ref"])
        assert data["properties"], path
    report = _resolve(doc, _response_schema(doc, "/api/v1/reports/sector")["properties"]["data"]["$ref"])
    assert {"period", "scope", "documents", "members", "personnel", "training"} <= set(report["properties"])
    xlsx = doc["paths"]["/api/v1/reports/sector"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in xlsx
    params = {p["name"] for p in doc["paths"]["/api/v1/reports/sector"]["get"]["parameters"]}
    assert params == {"from", "to", "within", "format", "baseline_year"}


# --- the training parts of the composed views match training's own schemas --------------------------------


def _shape(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A schema reduced to what a client relies on: types, formats, enum values, properties, items."""
    if "$ref" in schema:
        return _shape(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return ("anyOf", frozenset(_shape(s, defs) for s in schema["anyOf"]))
    if "enum" in schema:
        return ("enum", frozenset(schema["enum"]))
    if schema.get("type") == "array":
        return ("array", _shape(schema["items"], defs))
    if "properties" in schema:
        return ("object", frozenset((k, _shape(v, defs)) for k, v in schema["properties"].items()))
    return (schema.get("type"), schema.get("format"))


def test_the_gateways_training_models_match_the_training_services_schemas(tmp_path: Path) -> None:
    from gateway.composition.training import (
        ProfileEnrollment,
        ProfileTrainingNeed,
        Qualifications,
        TrainingPlanProgress,
    )

    if "training" not in installed_services():
        return
    training = _service_documents(tmp_path)["training"]
    defs = training["components"]["schemas"]
    for gateway_model, service_schema in (
        (ProfileEnrollment, "EnrollmentRead"),
        (ProfileTrainingNeed, "Need"),
        (Qualifications, "QualificationsRead"),
        (TrainingPlanProgress, "TrainingPlanRead"),
    ):
        ours = gateway_model.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
        assert _shape(ours, ours.get("$defs", {})) == _shape(defs[service_schema], defs), service_schema


async def test_the_composed_views_document_their_training_parts(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/api/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    profile = schemas["Profile"]["properties"]
    assert profile["enrollments"]["anyOf"][0]["items"]["$ref"].endswith("/ProfileEnrollment")
    assert profile["training_needs"]["anyOf"][0]["items"]["$ref"].endswith("/ProfileTrainingNeed")
    assert profile["qualifications"]["anyOf"][0]["$ref"].endswith("/Qualifications")
    assert {"status", "programme_kind", "theory_level", "findings"} <= set(
        schemas["ProfileEnrollment"]["properties"]
    )
    plans = schemas["TrainingPlans"]["properties"]["items"]
    assert plans["items"]["$ref"].endswith("/TrainingPlanProgress")
