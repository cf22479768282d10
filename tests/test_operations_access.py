"""Who may see what of the operations endpoints: /metrics behind METRICS_TOKEN when it is set, /healthz's check
details only where HEALTHZ_DETAILS allows (off in production, where the 200/503 verdict stays for Render), /health
always public, the CSP on /docs; and the local MariaDB's app user confined to its own databases."""

from __future__ import annotations

import mysql.connector
import pytest

from backend.local_mariadb import APP_PASSWORD, APP_USER, LocalMariaDB, free_port
from backend.settings import DatabaseConfig
from tests.auth_helpers import assert_error, bearer

TOKEN = "metrics-token-for-tests-0123456789"
STRONG = "s" * 40


def test_metrics_are_public_without_a_token_setting(client):
    assert client.get("/metrics").status_code == 200


def test_metrics_need_the_bearer_token_when_one_is_set(make_app, db_config):
    client = make_app(db_config, metrics_token=TOKEN).test_client()
    for headers in ({}, bearer("wrong"), {"Authorization": TOKEN}, bearer(TOKEN + "x")):
        body = assert_error(client.get("/metrics", headers=headers), 401, "UNAUTHORIZED")
        assert body["error"]["details"] == {"reason": "metrics_token"}
    allowed = client.get("/metrics", headers=bearer(TOKEN))
    assert allowed.status_code == 200 and "http_requests_total" in allowed.get_data(as_text=True)
    assert client.get("/health").status_code == 200  # liveness stays public
    assert client.get("/healthz").status_code == 200


def test_development_shows_the_readiness_details(client):
    data = client.get("/healthz").get_json()["data"]
    assert data["ready"] is True and data["checks"]["database"] == {"ok": True}


def test_production_answers_readiness_without_details(make_app, db_config):
    client = make_app(db_config, app_env="production", jwt_secret_key=STRONG).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "success", "data": {"ready": True}}
    assert client.get("/health").status_code == 200


def test_production_says_not_ready_without_details(make_app):
    dead = DatabaseConfig("127.0.0.1", free_port(), "app", "x", "nowhere")
    client = make_app(dead, app_env="production", jwt_secret_key=STRONG, db_connect_timeout_s=1).test_client()
    body = assert_error(client.get("/healthz"), 503, "SERVICE_UNAVAILABLE")
    assert body["message"] == "not ready" and body["error"]["details"] == {"ready": False}


def test_healthz_details_can_be_switched_either_way(make_app, db_config):
    shown = make_app(db_config, app_env="production", jwt_secret_key=STRONG, healthz_details=True).test_client()
    assert "checks" in shown.get("/healthz").get_json()["data"]
    hidden = make_app(db_config, healthz_details=False).test_client()
    assert hidden.get("/healthz").get_json()["data"] == {"ready": True}


def test_the_docs_page_carries_the_content_security_policy(client):
    policy = client.get("/docs").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["style-src"].startswith("'self' 'sha256-") and "unsafe" not in policy


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    server = LocalMariaDB(tmp_path_factory.mktemp("grants"), database="own").start()
    yield server
    server.stop()


def _as_app(server: LocalMariaDB, database: str | None = None):
    return mysql.connector.connect(
        unix_socket=str(server.socket), user=APP_USER, password=APP_PASSWORD, database=database, use_pure=True
    )


def test_the_local_app_user_has_rights_on_its_own_database_only(own_server):
    conn = own_server.root_connection()
    conn.cursor().execute("CREATE DATABASE IF NOT EXISTS `private`")
    conn.close()
    app = _as_app(own_server, "own")
    cursor = app.cursor()
    cursor.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cursor.execute("INSERT INTO t VALUES (1)")
    cursor.execute("SHOW DATABASES")
    assert {row[0] for row in cursor.fetchall()} == {"information_schema", "own"}
    for statement in ("CREATE DATABASE other", "DROP DATABASE private", "SELECT user FROM mysql.user", "USE private"):
        with pytest.raises(mysql.connector.errors.ProgrammingError) as denied:
            cursor.execute(statement)
        assert denied.value.errno in (1044, 1142), statement  # access denied to the database / the table
    app.close()


def test_a_database_made_for_the_app_is_usable_by_it(own_server):
    own_server.create_database("second", replace=True)
    app = _as_app(own_server, "second")
    app.cursor().execute("CREATE TABLE t (id INT)")
    app.close()
