from __future__ import annotations

import pytest

from gateway.forwarding import service_location
from gateway.routes import RouteTable


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/organizations", "orgs"),
        ("/v1/organizations/5/tree", "orgs"),
        ("/v1/organizations/merge", "orgs"),
        ("/v1/members/1/recognition", "orgs"),
        ("/v1/residential-units/3", "orgs"),
        ("/v1/coverage", "orgs"),
        ("/v1/documents", "orgs"),
        ("/v1/cadres", "cadres"),
        ("/v1/cadres/9", "cadres"),
        ("/v1/cadres/9/assignments", "cadres"),
        ("/v1/cadres/9/qualifications", "training"),
        ("/v1/cadres/9/training", "training"),
        ("/v1/cadres/9/dossier", "cadres"),
        ("/v1/organizations/paths", "orgs"),
        ("/v1/members/1/summary", "orgs"),
        ("/v1/posts/1", "cadres"),
        ("/v1/personnel-actions:check", "cadres"),
        ("/v1/appointments/due", "cadres"),
        ("/v1/plans:check", "cadres"),
        ("/v1/plans/coverage", "cadres"),
        ("/v1/payroll/1/2024/civil_servant", "cadres"),
        ("/v1/programmes", "training"),
        ("/v1/courses/2", "training"),
        ("/v1/enrollments:check", "training"),
        ("/v1/training-needs", "training"),
        ("/v1/training-plans/2024/1/2", "training"),
        ("/v1/cadres/{cadre_id}/qualifications", "training"),  # OpenAPI templates match too
    ],
)
def test_each_resource_goes_to_its_owner(path: str, service: str) -> None:
    rule = RouteTable().match(path)
    assert rule is not None
    assert rule.service == service


@pytest.mark.parametrize(
    "path",
    [
        "/v1/stats/sector",
        "/v1/rules",
        "/v1/unknown",
        "/v1/",
        "/health/ready",
        "/v1/organizations/../rules",
        "/v1/organizationsx",
    ],
)
def test_composed_and_unknown_paths_are_not_forwarded(path: str) -> None:
    assert RouteTable().match(path) is None


def test_location_is_rewritten_to_the_gateway() -> None:
    base = "http://127.0.0.1:8001"
    assert service_location("/v1/organizations/1", base) == "/api/v1/organizations/1"
    assert service_location(f"{base}/v1/organizations/1", base) == "/api/v1/organizations/1"
    assert service_location("https://elsewhere.example/x", base) == "https://elsewhere.example/x"
