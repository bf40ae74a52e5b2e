"""``deploy/k8s``: each overlay renders with ``kubectl kustomize`` and every object is valid Kubernetes.

Rendering needs ``kubectl`` (its built-in kustomize) or a standalone ``kustomize`` on PATH; the test is
skipped, saying so, where neither is installed. Validation uses ``kubernetes-validate`` (PyPI), whose
bundled schemas work offline, in strict mode (an unknown field is an error). Then the rules of the
deployment that no schema knows: probes, resources, replicas, the NATS cluster, the network policies.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"  # the oldest minor we support; kubectl here is 1.32
SERVICES = {"orgs": 8001, "cadres": 8002, "training": 8003}


def _renderer() -> list[str] | None:
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    return None


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    command = _renderer()
    if command is None:
        pytest.skip("neither kubectl nor kustomize is installed: cannot render deploy/k8s overlays")
    overlay = str(request.param)
    result = subprocess.run(
        [*command, str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return overlay, [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"] if "template" in doc["spec"] else doc["spec"]["jobTemplate"]
    return list(spec["containers"])


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_every_rendered_object_is_valid_kubernetes(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, docs = rendered
    assert len(docs) > 30
    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not problems, f"{overlay}:\n" + "\n".join(problems)
    namespaces = {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"}
    assert namespaces == {"tochuc-dev" if overlay == "dev" else "tochuc"}


def test_the_validator_rejects_a_broken_object(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    """A test that can fail: a misspelt probe field and a string replica count are errors."""
    _, docs = rendered
    deployment = yaml.safe_load(yaml.safe_dump(by_kind(docs, "Deployment")["orgs-api"]))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGett"] = container["readinessProbe"].pop("httpGet")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = yaml.safe_load(yaml.safe_dump(by_kind(docs, "Deployment")["orgs-api"]))
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_deployments_have_probes_resources_and_run_as_non_root(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    deployments = by_kind(docs, "Deployment")
    expected = {f"{s}-{role}" for s in SERVICES for role in ("api", "workers")} | {"gateway"}
    assert set(deployments) == expected
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["args"][0] == "serve"
        service = name.rsplit("-", 1)[0]
        if service in SERVICES:
            args = pod["containers"][0]["args"]
            role = "api" if name.endswith("-api") else "relay,consumers"
            assert args[:4] == ["serve", service, "--role", role], name
            assert args[-1] == str(SERVICES[service])


def test_services_hpas_and_pdbs_point_at_real_pods(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    pods = [
        doc["spec"]["template"]["metadata"]["labels"]
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet")
    ]
    for service in by_kind(docs, "Service").values():
        assert any(labels_match(service["spec"]["selector"], labels) for labels in pods), service
    for pdb in by_kind(docs, "PodDisruptionBudget").values():
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert any(labels_match(selector, labels) for labels in pods), pdb["metadata"]["name"]
    deployments = by_kind(docs, "Deployment")
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas.values()} == {
        *(f"{s}-api" for s in SERVICES),
        "gateway",
    }
    for hpa in hpas.values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    assert set(by_kind(docs, "PodDisruptionBudget")) >= {"nats", "gateway", "orgs-api", "orgs-workers"}


def test_secrets_each_service_reads(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, docs = rendered
    secrets = by_kind(docs, "Secret")
    if overlay == "prod":
        assert secrets == {}  # created in the cluster from the secret store, never rendered from git
    else:
        assert set(secrets) == {"tochuc-auth", "orgs-db", "cadres-db", "cadres-vetting", "training-db"}
    read = {
        name: {
            ref["secretRef"]["name"] for ref in containers(doc)[0].get("envFrom", []) if "secretRef" in ref
        }
        for name, doc in by_kind(docs, "Deployment").items()
    }
    assert read["orgs-api"] == read["orgs-workers"] == {"tochuc-auth", "orgs-db"}
    assert read["cadres-api"] == {"tochuc-auth", "cadres-db", "cadres-vetting"}
    assert read["training-api"] == {"tochuc-auth", "training-db"}
    assert read["gateway"] == {"tochuc-auth"}  # no database at all
    job = by_kind(docs, "Job")["tochuc-migrate"]
    assert containers(job)[0]["args"][:1] == ["migrate"]
    config = by_kind(docs, "ConfigMap")["tochuc-config"]["data"]
    assert config["TOCHUC_ENV"] == "production" and config["TOCHUC_NATS_REPLICAS"] == "3"
    assert len(config["TOCHUC_NATS_URL"].split(",")) == 3


def test_nats_is_a_three_node_cluster_on_persistent_volumes(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    nats = by_kind(docs, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    conf = by_kind(docs, "ConfigMap")["nats-config"]["data"]["nats.conf"]
    assert "sync_interval: always" in conf
    for i in range(3):
        assert f"nats-route://nats-{i}.nats-headless:6222" in conf
    assert by_kind(docs, "Service")["nats-headless"]["spec"]["clusterIP"] == "None"


def test_only_the_gateway_is_exposed_and_services_reach_only_their_database(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    for service in by_kind(docs, "Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    ingresses = by_kind(docs, "Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for ingress in ingresses.values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}

    policies = by_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    # Only the gateway policy admits traffic from outside the namespace.
    outside = [
        name
        for name, policy in policies.items()
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if "namespaceSelector" in peer
    ]
    assert outside == ["gateway"]
    cidrs = {}
    for service in SERVICES:
        policy = policies[f"{service}-database"]["spec"]
        assert policy["podSelector"]["matchExpressions"][0]["values"] == [service, "all"]
        assert policy["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
        cidrs[service] = policy["egress"][0]["to"][0]["ipBlock"]["cidr"]
    if overlay == "prod":
        assert len(set(cidrs.values())) == 3 and all(c.endswith("/32") for c in cidrs.values())
    for name, deployment in by_kind(docs, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        expected = None if name == "gateway" else name.rsplit("-", 1)[0]
        assert labels.get("tochuc/db-access") == expected, name
