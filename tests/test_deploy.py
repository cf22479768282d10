"""Deployment files: render.yaml is valid and names only commands, files, paths and settings that exist;
gunicorn.conf.py holds settings only; TRUSTED_PROXIES makes rate limits key on the forwarded client."""

from __future__ import annotations

import ast
import re
import runpy
import shlex
from pathlib import Path

import pytest
import yaml

from backend.app import create_app
from backend.cli import build_parser
from backend.settings import Settings
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
RENDER_SERVICE_TYPES = {"web", "pserv", "worker", "cron", "keyvalue", "redis"}
# Variables read outside Settings: by Render's Python runtime and by gunicorn.conf.py.
PLATFORM_VARIABLES = {"PYTHON_VERSION"}


@pytest.fixture(scope="module")
def blueprint() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


@pytest.fixture(scope="module")
def services(blueprint) -> dict[str, dict]:
    return {service["name"]: service for service in blueprint["services"]}


@pytest.fixture(scope="module")
def web(blueprint) -> dict:
    [service] = [s for s in blueprint["services"] if s["type"] == "web"]
    return service


def requirement_names() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {re.split(r"[=<>\[ ]", line.strip())[0].lower() for line in lines if line.strip() and line[0] != "#"}


def gunicorn_variables() -> set[str]:
    return set(re.findall(r"os\.environ\.get\(['\"](\w+)['\"]", (ROOT / "gunicorn.conf.py").read_text()))


def setting_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        if field.validation_alias is not None:
            names.update(str(choice).upper() for choice in field.validation_alias.choices)
    return names


def test_services_have_known_types_and_unique_names(blueprint, services):
    assert len(services) == len(blueprint["services"]) == 3
    assert {s["type"] for s in blueprint["services"]} <= RENDER_SERVICE_TYPES
    assert {s["type"] for s in blueprint["services"]} >= {"web", "pserv"}
    assert {"keyvalue", "redis"} & {s["type"] for s in blueprint["services"]}


def test_build_command_installs_the_pinned_requirements_and_the_front_end_libraries(web):
    assert shlex.split(web["buildCommand"]) == [
        "pip",
        "install",
        "-r",
        "requirements.txt",
        "&&",
        "bash",
        "scripts/vendor_assets.sh",
    ]
    assert (ROOT / "scripts/vendor_assets.sh").is_file() and (ROOT / "package-lock.json").is_file()
    assert {"gunicorn", "gevent", "redis", "mysql-connector-python"} <= requirement_names()


def test_start_command_is_gunicorn_with_the_config_file_and_the_wsgi_app(web):
    args = shlex.split(web["startCommand"])
    assert args[0] == "gunicorn" and "gunicorn" in requirement_names()
    config = args[args.index("-c") + 1]
    assert (ROOT / config).is_file()
    module, _, attribute = args[-1].partition(":")
    source = ROOT / (module.replace(".", "/") + ".py")
    assigned = {
        target.id
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert attribute in assigned


def test_pre_deploy_runs_existing_cli_commands(web):
    commands = [shlex.split(part) for part in web["preDeployCommand"].split("&&")]
    assert commands[0] == ["python", "-m", "backend", "migrate"]
    for command in commands:
        assert command[:3] == ["python", "-m", "backend"]
        args = build_parser().parse_args(command[3:])  # SystemExit on an unknown command or flag
        assert callable(args.func)


def test_health_check_path_is_the_readiness_route(web, settings):
    app = create_app(settings)
    try:
        assert web["healthCheckPath"] == "/healthz"
        assert "/healthz" in {rule.rule for rule in app.url_map.iter_rules()}
    finally:
        app.extensions["db"].close()


def test_every_web_variable_is_a_setting_or_read_by_gunicorn_or_the_platform(web):
    known = setting_variables() | gunicorn_variables() | PLATFORM_VARIABLES
    keys = [var["key"] for var in web["envVars"]]
    assert len(keys) == len(set(keys))
    assert [key for key in keys if key not in known] == []


def test_secrets_are_generated_or_entered_never_committed(web, services):
    variables = {var["key"]: var for var in web["envVars"]}
    assert variables["JWT_SECRET_KEY"] == {"key": "JWT_SECRET_KEY", "generateValue": True}
    assert variables["APP_ENV"]["value"] == "production"
    assert variables["TRUSTED_PROXIES"]["value"] == 1
    mysql = {var["key"]: var for var in services["market-mysql"]["envVars"]}
    assert mysql["MYSQL_PASSWORD"].get("generateValue") and mysql["MYSQL_ROOT_PASSWORD"].get("generateValue")
    for var in web["envVars"]:
        if "PASSWORD" in var["key"] or "SECRET" in var["key"]:
            assert "value" not in var, var["key"]


def test_references_name_services_of_this_blueprint_and_their_variables(web, services):
    for var in web["envVars"]:
        ref = var.get("fromService")
        if ref is None:
            continue
        target = services[ref["name"]]
        assert target["type"] == ref["type"]
        if "envVarKey" in ref:
            assert ref["envVarKey"] in {v["key"] for v in target["envVars"]}
        else:
            assert ref["property"] in {"host", "port", "hostport", "connectionString"}
    assert {var["key"] for var in web["envVars"]} >= {"DB_HOST", "DB_USER", "DB_PASSWORD", "DB_NAME", "REDIS_URL"}


def test_mysql_private_service_builds_from_files_in_the_repo_onto_its_disk(services):
    mysql = services["market-mysql"]
    assert mysql["type"] == "pserv" and mysql["runtime"] == "docker"
    dockerfile, context = ROOT / mysql["dockerfilePath"], ROOT / mysql["dockerContext"]
    assert dockerfile.is_file() and context.is_dir()
    copied = re.findall(r"^COPY\s+(\S+)\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
    assert copied and all((context / source).is_file() for source, _ in copied)
    assert re.search(r"^FROM mysql:8\.\d+$", dockerfile.read_text(), re.MULTILINE)
    disk = mysql["disk"]
    assert disk["mountPath"] == "/var/lib/mysql" and disk["sizeGB"] >= 1
    config = (context / "market.cnf").read_text()
    # the data directory sits below the mount point (its root holds lost+found)
    assert re.search(r"^datadir\s*=\s*/var/lib/mysql/\w+", config, re.MULTILINE)


def test_key_value_instance_is_private_and_never_evicts(services):
    redis = services["market-redis"]
    assert redis["ipAllowList"] == [] and redis["maxmemoryPolicy"] == "noeviction"


def test_gunicorn_config_is_settings_only(monkeypatch):
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    imports = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names
    }
    assert imports == {"os"}
    for name in ("HOST", "RENDER", "WORKER_CONNECTIONS", "GUNICORN_TIMEOUT", "ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "10000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_GRACEFUL_TIMEOUT", "15")
    monkeypatch.setenv("RENDER", "true")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["bind"], config["workers"], config["worker_class"]) == (
        "0.0.0.0:10000",
        3,
        "backend.gunicorn_worker.Worker",
    )
    assert config["graceful_timeout"] == 15 and config["control_socket_disable"] is True
    assert "x-forwarded-for" in config["access_log_format"]


def _login_statuses(client, addresses: list[str]) -> list[int]:
    return [
        client.post("/auth/login", json={}, headers={"X-Forwarded-For": address}).status_code for address in addresses
    ]


@pytest.mark.parametrize("trusted, expected", [(1, [400, 400, 429, 400]), (0, [400, 400, 429, 429])])
def test_rate_limits_key_on_the_forwarded_client_only_behind_a_trusted_proxy(db_config, trusted, expected):
    app = create_app(make_settings(db_config, auth_rate_limit="2 per minute", trusted_proxies=trusted))
    try:
        addresses = ["203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.9"]
        assert _login_statuses(app.test_client(), addresses) == expected
    finally:
        app.extensions["db"].close()
