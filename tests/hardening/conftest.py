"""The app as a real server (gunicorn + gevent on a free loopback port) on a database of its own, for the tests
that need real sockets: concurrent requests, raw WebSocket frames. No ticks: the feed jobs are off."""

from __future__ import annotations

import os

import pytest

from backend.local_app import LocalApp
from tests.conftest import migrate_and_seed

HARDENING_DB = "test_hardening"


@pytest.fixture(scope="package")
def hardening_db(make_database):
    """A migrated database seeded with two days of history."""
    return migrate_and_seed(make_database(HARDENING_DB), days=2)


@pytest.fixture(scope="package")
def live_app(hardening_db, tmp_path_factory) -> LocalApp:
    """The server (its log in `live_app.log_path`), stopped after the package's tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_", "REDIS_"))}
    env.update(
        {
            "DATABASE_URL": hardening_db.url(),
            "APP_ENV": "test",
            "LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": "1",
            "AUTH_RATE_LIMIT": "1000 per minute",
            "ENABLE_STOCK_SCHEDULER": "0",
            "ENABLE_INDEX_SCHEDULER": "0",
            "ENABLE_EOD_SCHEDULER": "0",
            "ENABLE_STARTUP_REFRESH": "0",
            "NEWS_FEEDS": "",
        }
    )
    server = LocalApp(env, tmp_path_factory.mktemp("hardening") / "gunicorn.log").start()
    yield server
    server.stop()
