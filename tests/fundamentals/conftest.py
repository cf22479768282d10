"""Fixtures of the fundamentals tests: an app with fast jobs and a short fan-out interval, admin and user clients,
job runners with the crawl handler, a Socket.IO listener, the fake EODHD, and clean-up of what crawls change."""

from __future__ import annotations

import pytest
import socketio

from backend.db import connect
from backend.seed import UNIVERSE_JOB, seed_fundamentals
from controller.sql import execute, fetch_one, fetch_value
from services.fundamentals.runs import KIND, CrawlHandler
from services.jobs.runner import JobRunner
from tests.auth_helpers import access_token, bearer, make_user
from tests.conftest import SEED, SEED_NOW
from tests.fundamentals.fake_eodhd import FakeEodhdServer
from tests.waiting import wait_for
from utils.timeutil import to_db

FAST = {"job_heartbeat_interval_s": 0.3, "job_poll_interval_s": 0.1, "fanout_interval_ms": 50}


@pytest.fixture
def app(make_app, db_config):
    """An app on the session database: jobs heartbeat every 0.3 s, the PEG table re-prices every 50 ms."""
    return make_app(db_config, **FAST)


@pytest.fixture
def eodhd():
    """The fake EODHD on a free loopback port."""
    with FakeEodhdServer() as server:
        yield server


@pytest.fixture
def eodhd_app(make_app, db_config, eodhd):
    """An app whose EODHD source is the fake (short timeout, one retry)."""
    return make_app(
        db_config,
        **FAST,
        eodhd_api_token="test-token",
        eodhd_base_url=eodhd.url,
        http_timeout_s=0.5,
        http_max_retries=1,
    )


@pytest.fixture(autouse=True)
def _restore_crawled(request):
    """Crawls overwrite the session database's fundamentals and leave jobs and runs: put the seed's back."""
    yield
    if "db_config" not in request.fixturenames:
        return
    conn = connect(request.getfixturevalue("db_config"), autocommit=False)
    try:
        conn.start_transaction()
        execute(conn, "DELETE FROM jobs WHERE kind = 'crawl'")
        execute(conn, "DELETE FROM crawler_jobs WHERE name <> %s", (UNIVERSE_JOB,))
        execute(conn, "UPDATE crawler_jobs SET next_run_at = NULL")
        stored = fetch_one(
            conn,
            "SELECT COUNT(*) AS n, SUM(source = 'simulator' AND as_of = %s) AS seeded FROM fundamentals",
            (to_db(SEED_NOW),),
        )
        universe = fetch_value(
            conn,
            "SELECT COUNT(*) FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id "
            "WHERE s.is_active = 1 AND s.exchange = 'NSE'",
        )
        conn.commit()
        if not stored["n"] == stored["seeded"] == universe:
            seed_fundamentals(conn, SEED, SEED_NOW)
    finally:
        conn.close()


class Client:
    """A signed-in user of the test client."""

    def __init__(self, app, db_conn, name: str, role: str = "user") -> None:
        self.user_id = make_user(db_conn, f"{name}@example.com", name=name, role=role)
        self.token = access_token(app, self.user_id, role)
        self.client = app.test_client()
        self.headers = bearer(self.token)

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None):
        return self.client.post(path, json=json, headers=self.headers)

    def patch(self, path: str, json=None):
        return self.client.patch(path, json=json, headers=self.headers)

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)

    def run(self, job_id: int, run_id: int) -> dict:
        return next(
            r for r in self.get(f"/admin/crawler-jobs/{job_id}/runs").get_json()["data"] if r["run_id"] == run_id
        )

    def wait(self, job_id: int, run_id: int, timeout: float = 30) -> dict:
        """The run once it reached a terminal status."""
        seen = {}
        wait_for(
            lambda: seen.update(self.run(job_id, run_id)) or seen["status"] in ("completed", "failed", "cancelled"),
            timeout,
        )
        return seen


@pytest.fixture
def admin_client(app, db_conn):
    """A signed-in administrator of `app`."""
    return Client(app, db_conn, "root", role="admin")


@pytest.fixture
def user_client(app, db_conn):
    """A signed-in ordinary user of `app`."""
    return Client(app, db_conn, "alice")


@pytest.fixture
def make_runner():
    """Factory: a started JobRunner with the crawl handler on the given app; stopped after the test."""
    runners = []

    def make(application):
        runner = JobRunner(application, {KIND: CrawlHandler(application)})
        runner.start()
        application.extensions["job_runner"] = runner
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop()


class Listener:
    """A real Socket.IO client with a token, recording crawler_run_progress events."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[dict] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("crawler_run_progress", self.events.append)
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def of(self, run_id: int) -> list[dict]:
        return [event for event in self.events if event["run_id"] == run_id]

    def close(self) -> None:
        self.client.disconnect()
