"""Shared fixtures: a real MariaDB server (started here unless TEST_DATABASE_URL is set), a migrated and
seeded database, the app factory, HTTP clients and per-test clean user data."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import redis
from werkzeug.serving import make_server

from backend.app import create_app
from backend.db import connect
from backend.local_mariadb import LocalMariaDB, free_port
from backend.migrate import migrate
from backend.seed import seed_market
from backend.settings import DatabaseConfig, Settings
from utils.timeutil import IST

# The seeded market is "as of" a fixed moment inside a trading session, so figures are reproducible.
SEED_NOW = datetime(2026, 11, 20, 11, 0, tzinfo=IST)
SEED = 42
TEST_DB = "test_market"


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory) -> LocalMariaDB | None:
    """A throwaway MariaDB server for the session (None when TEST_DATABASE_URL points elsewhere)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    server = LocalMariaDB(tmp_path_factory.mktemp("mariadb"), database=TEST_DB).start()
    yield server
    server.stop()


def _server_config(mariadb: LocalMariaDB | None, database: str) -> DatabaseConfig:
    if mariadb is None:
        base = DatabaseConfig.from_url(os.environ["TEST_DATABASE_URL"])
        return DatabaseConfig(base.host, base.port, base.user, base.password, database)
    return mariadb.config(database)


@pytest.fixture(scope="session")
def make_database(mariadb):
    """Factory: a fresh, empty database on the test server (made by root over the socket on the local server,
    whose app user has rights on its own databases only); returns the app's DatabaseConfig for it."""

    def make(name: str) -> DatabaseConfig:
        config = _server_config(mariadb, name)
        if mariadb is not None:
            mariadb.create_database(name, replace=True)
            return config
        conn = connect(DatabaseConfig(config.host, config.port, config.user, config.password, "mysql"))
        try:
            cursor = conn.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        finally:
            conn.close()
        return config

    return make


def migrated(config: DatabaseConfig) -> DatabaseConfig:
    """Apply the migrations to an empty database; return its config."""
    conn = connect(config)
    try:
        migrate(conn)
    finally:
        conn.close()
    return config


def migrate_and_seed(config: DatabaseConfig, **seed_args) -> DatabaseConfig:
    """Apply the migrations to an empty database and seed it as of SEED_NOW; return its config."""
    seed_market(migrated(config), **{"seed": SEED, "now": SEED_NOW, **seed_args})
    return config


@pytest.fixture(scope="session")
def db_config(make_database) -> DatabaseConfig:
    """The session's migrated and seeded database."""
    return migrate_and_seed(make_database(TEST_DB))


def make_settings(db_config: DatabaseConfig, **overrides) -> Settings:
    """Test settings: no .env file, threading async mode, the given database."""
    values = {
        "app_env": "test",
        "database_url": db_config.url(),
        "socketio_async_mode": "threading",
        "log_level": "WARNING",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings.load(**values)


def app_with_db_probe(config: DatabaseConfig, **overrides):
    """An app (settings overrides as make_settings) with `GET /_probe/db`, which reads `SELECT 1` from its pool."""
    from flask import Blueprint

    from backend import db
    from controller.sql import fetch_value

    application = create_app(make_settings(config, **overrides))
    probe = Blueprint("db_probe", __name__)

    @probe.get("/_probe/db")
    def read():
        with db.connection() as conn:
            return {"value": fetch_value(conn, "SELECT 1")}

    application.register_blueprint(probe)
    return application


@pytest.fixture
def settings(db_config) -> Settings:
    """Settings for an app on the session database."""
    return make_settings(db_config)


@pytest.fixture
def app(settings):
    """A fresh app per test (its pool is closed afterwards)."""
    application = create_app(settings)
    yield application
    application.extensions["db"].close()


@pytest.fixture
def make_app():
    """Factory: `make_app(db_config, **setting overrides)` → an app whose pool is closed after the test."""
    apps = []

    def make(config: DatabaseConfig, **overrides):
        application = create_app(make_settings(config, **overrides))
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["db"].close()


@pytest.fixture
def client(app):
    """Flask's test client for `app`."""
    return app.test_client()


@pytest.fixture
def live_server(app):
    """`app` served by a real threaded HTTP server on 127.0.0.1 (for real Socket.IO clients); its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def db_conn(db_config):
    """A raw autocommit connection to the session database, for controller tests."""
    conn = connect(db_config)
    yield conn
    conn.close()


@pytest.fixture(autouse=True)
def _clean_user_data(request):
    """Each test starts without users (and so without accounts, orders, watchlists...)."""
    yield
    if "db_config" not in request.fixturenames:
        return
    conn = connect(request.getfixturevalue("db_config"))
    try:
        cursor = conn.cursor()
        cursor.execute("DELETE FROM users")
        cursor.execute("DELETE FROM revoked_tokens")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of the session on a free loopback port, without persistence."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("redis-server did not start") from None
            time.sleep(0.05)
    yield url
    client.close()
    process.terminate()
    process.wait(timeout=10)
