from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.tests.conftest import GatewayFactory

HEALTH_JSON = "application/health+json"


async def test_live_touches_no_service(make_gateway: GatewayFactory) -> None:
    async with make_gateway(down=("orgs", "cadres", "training")) as gateway:
        response = await gateway.get("/health/live")
        assert response.status_code == 200
        assert response.headers["content-type"] == HEALTH_JSON
        assert response.json()["status"] == "pass"


async def test_ready_passes_when_every_service_is_up(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/health/ready")
    assert response.status_code == 200
    assert response.headers["content-type"] == HEALTH_JSON
    health = response.json()
    assert health["status"] == "pass"
    assert health["serviceId"] == "gateway"
    assert health["version"]
    assert {key: checks[0]["status"] for key, checks in health["checks"].items()} == {
        "orgs:ready": "pass",
        "cadres:ready": "pass",
        "training:ready": "pass",
    }


async def test_ready_stays_200_and_marks_a_down_service_warn(make_gateway: GatewayFactory) -> None:
    async with make_gateway(down=("training",)) as gateway:
        response = await gateway.get("/health/ready")
        assert response.status_code == 200
        health = response.json()
        assert health["status"] == "warn"
        training = health["checks"]["training:ready"][0]
        assert training["status"] == "warn"
        assert training["componentId"] == "training"
        assert "unreachable" in training["output"]
        assert health["checks"]["orgs:ready"][0]["status"] == "pass"


async def test_metrics_count_requests_and_upstream_calls(make_gateway: GatewayFactory) -> None:
    async with make_gateway(down=("training",)) as gateway:
        await gateway.get("/api/v1/organizations/1")
        await gateway.get("/api/v1/cadres/1/qualifications")
        await gateway.get("/api/v1/stats/sector")
        response = await gateway.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    requests = "tochuc_gateway_http_requests_total"
    assert sample(text, requests, method="GET", route="/api/v1/organizations", status="200") == 1
    assert sample(text, requests, method="GET", route="/api/v1/cadres/*/qualifications", status="502") == 1
    assert sample(text, requests, method="GET", route="unmatched", status="404") == 1
    durations = "tochuc_gateway_http_request_duration_seconds_count"
    assert sample(text, durations, route="/api/v1/organizations", status="200") == 1
    upstream = "tochuc_gateway_upstream_request_duration_seconds_count"
    assert sample(text, upstream, service="orgs", outcome="2xx") == 1
    assert sample(text, upstream, service="training", outcome="unavailable") == 1


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None
