"""``deploy/compose.yaml``: valid Compose, coherent, and a production configuration the code accepts.

No ``docker compose`` plugin on these machines, so the file is checked the way ``docker compose config``
would: variables interpolated from ``deploy/.env.example``, then validated against the Compose
Specification's JSON schema (vendored in ``deploy/schema/``, see its README) with ``jsonschema``; then the
checks a schema cannot make (references between services, the NATS cluster, health checks, ports).
Finally the environment of every tochuc container is loaded as the code would load it in production.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from shared.settings import CommonSettings, ServiceSettings, UnsafeConfiguration

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SCHEMA = DEPLOY / "schema" / "compose-spec.json"

SERVICES = ("orgs", "cadres", "training")
NATS_NODES = ("nats-1", "nats-2", "nats-3")
TOCHUC_CONTAINERS = (*SERVICES, "gateway", "migrate")
PORTS = {"gateway": 8000, "orgs": 8001, "cadres": 8002, "training": 8003}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal dollar.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(node: Any, env: dict[str, str], used: dict[str, bool]) -> Any:
    """Compose's variable interpolation; ``used`` records each variable and whether it had a default."""
    if isinstance(node, dict):
        return {key: interpolate(value, env, used) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env, used) for item in node]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        used[name] = used.get(name, False) or op in (":-", "-")
        value = env.get(name)
        if op == ":-" and not value:
            return arg or ""
        if op == "-" and value is None:
            return arg or ""
        if op in (":?", "?") and not value:
            raise ValueError(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(replace, node)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the << merge keys too
    return data


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def used_variables(raw: dict[str, Any], env_example: dict[str, str]) -> dict[str, bool]:
    used: dict[str, bool] = {}
    interpolate(raw, env_example, used)
    return used


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any], env_example: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = interpolate(raw, env_example, {})
    return result


def test_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_mistake(compose: dict[str, Any]) -> None:
    """A test that can fail: a misspelt key and a bad depends_on condition are rejected."""
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["orgs"]["healthchek"] = broken["services"]["orgs"].pop("healthcheck")
    broken["services"]["cadres"]["depends_on"]["migrate"]["condition"] = "service_finished"
    messages = [e.message for e in jsonschema.Draft201909Validator(schema).iter_errors(broken)]
    assert any("healthchek" in m for m in messages), messages
    assert any("service_finished" in m for m in messages), messages


def test_every_variable_comes_from_the_env_example(
    used_variables: dict[str, bool], env_example: dict[str, str]
) -> None:
    required = {name for name, has_default in used_variables.items() if not has_default}
    assert required - set(env_example) == set(), "compose.yaml needs variables .env.example lacks"
    assert set(env_example) - set(used_variables) == set(), ".env.example lists variables nobody uses"
    assert (REPO / ".gitignore").read_text().count("deploy/.env") == 1  # the real secrets stay out of git


def test_services_reference_only_services_that_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target in service.get("depends_on", {}):
            assert target in services, f"{name} depends on unknown {target}"
        for network in service.get("networks", []):
            assert network in compose.get("networks", {}), f"{name}: unknown network {network}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts a missing file {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name}: unknown volume {source}"


def test_the_services_wait_for_the_migration_job(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"][0] == "migrate" and "--nats-timeout" in migrate["command"]
    assert migrate["restart"] == "no"
    assert {"postgres", *NATS_NODES} <= set(migrate["depends_on"])
    for name in SERVICES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert set(services["gateway"]["depends_on"]) == set(SERVICES)


def test_two_replicas_of_each_service_with_readiness_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in (*SERVICES, "gateway"):
        service = services[name]
        assert service["command"] == ["serve", name]
        check = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{PORTS[name]}/health/ready" in check, name
        assert service.get("user") is None  # the image's non-root user
        assert service["read_only"] is True
        if name != "gateway":
            assert service["deploy"]["replicas"] == 2
            assert "container_name" not in service  # replicas need generated names
            assert "ports" not in service  # reached through the gateway only
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["gateway"]


def test_the_nats_cluster_has_three_nodes_with_synchronous_writes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    binary = Path(sys.executable).parent / "nats-server"
    for node in NATS_NODES:
        mount = next(v for v in services[node]["volumes"] if v.endswith(":/etc/nats/nats.conf:ro"))
        config_path = DEPLOY / mount.split(":", 1)[0]
        config = config_path.read_text()
        assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.M), node
        assert f"server_name: {node}" in config
        for other in NATS_NODES:
            assert f"nats-route://{other}:6222" in config
        assert "/healthz" in " ".join(services[node]["healthcheck"]["test"])
        if binary.is_file():  # the real server parses it (the image runs the same major version)
            checked = subprocess.run(
                [str(binary), "-t", "-c", str(config_path)], capture_output=True, text=True, check=False
            )
            assert checked.returncode == 0, checked.stdout + checked.stderr
    nats_url = compose["x-tochuc-env"]["TOCHUC_NATS_URL"]
    assert nats_url.split(",") == [f"nats://{n}:4222" for n in NATS_NODES]
    assert compose["x-tochuc-env"]["TOCHUC_NATS_REPLICAS"] == "3"


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    init = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    postgres_env = compose["services"]["postgres"]["environment"]
    for name in SERVICES:
        assert f"create {name} " in init
        assert f"{name.upper()}_DB_PASSWORD" in postgres_env
        url = compose["services"]["migrate"]["environment"][f"{name.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql+asyncpg://tochuc_{name}:") and url.endswith(f"/tochuc_{name}")
        # A service gets its own database URL and no other.
        own = compose["services"][name]["environment"]
        assert [k for k in own if k.endswith("_DATABASE_URL")] == [f"{name.upper()}_DATABASE_URL"]
        assert own[f"{name.upper()}_DATABASE_URL"] == url


# --- production, as configured by the compose file --------------------------------------------------


def container_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"][name]["environment"].items()}


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    def apply(values: dict[str, str]) -> None:
        import os

        for name in list(os.environ):
            if name.startswith(("TOCHUC_", "CADRES_")) or name.endswith("_DATABASE_URL"):
                monkeypatch.delenv(name)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("TOCHUC_DATA_DIR", str(tmp_path / "data"))

    return apply


@pytest.mark.parametrize("name", ["orgs", "cadres"])
def test_each_service_starts_in_production_with_the_compose_environment(
    compose: dict[str, Any], production_env: Any, tmp_path: Path, name: str
) -> None:
    import importlib

    from shared.auth import TokenVerifier

    production_env(container_env(compose, name))
    settings = ServiceSettings.load(name)
    assert settings.env == "production"
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.stream_replicas == 3 and len(settings.effective_nats_url.split(",")) == 3
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    assert app.state.roles == {"api", "relay", "consumers"}
    verifier = TokenVerifier(settings)
    assert verifier._key is None and verifier._jwks is not None  # JWKS only, no development key
    assert not (tmp_path / "data").exists()  # nothing written next to the data: no dev key, no SQLite


def test_the_gateway_and_the_migration_job_accept_the_compose_environment(
    compose: dict[str, Any], production_env: Any
) -> None:
    from gateway.settings import GatewaySettings

    production_env(container_env(compose, "gateway"))
    gateway = GatewaySettings()
    assert gateway.env == "production" and gateway.service_list == list(SERVICES)
    assert gateway.service_url("orgs") == "http://orgs:8001"
    production_env(container_env(compose, "migrate"))
    for name in SERVICES:
        assert ServiceSettings.load(name).database_url.endswith(f"/tochuc_{name}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TOCHUC_JWKS_URL": None}, "TOCHUC_JWKS_URL is required"),
        ({"TOCHUC_JWKS_URL": "file:///var/tochuc/dev-signing.key"}, "TOCHUC_JWKS_URL must be"),
        ({"TOCHUC_NATS_URL": None}, "TOCHUC_NATS_URL is required"),
        ({"CADRES_DATABASE_URL": None}, "CADRES_DATABASE_URL must be PostgreSQL"),
        ({"CADRES_DATABASE_URL": "sqlite+aiosqlite:////data/cadres.db"}, "must be PostgreSQL"),
        ({"CADRES_VETTING_KEYS": None}, "CADRES_VETTING_KEYS is required"),
    ],
)
def test_production_refuses_each_development_default(
    compose: dict[str, Any], production_env: Any, change: dict[str, str | None], message: str
) -> None:
    from services.cadres.app import create_app

    values = container_env(compose, "cadres")
    for key, value in change.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    production_env(values)
    with pytest.raises((UnsafeConfiguration, ValueError), match=message):
        create_app(ServiceSettings.load("cadres"))


def test_tochuc_refuses_to_start_in_production_with_an_embedded_default(
    compose: dict[str, Any], production_env: Any
) -> None:
    """The command an operator runs: one line, exit 2, no traceback."""
    from shared.cli import main

    values = container_env(compose, "orgs")
    values.pop("TOCHUC_NATS_URL")
    production_env(values)
    with pytest.raises(ValueError, match="TOCHUC_NATS_URL"):
        CommonSettings()
    assert main(["serve", "orgs"]) == 2
