"""Fixtures of the scanner tests: an app with a fast job heartbeat, job runners with real scan processes, users."""

from __future__ import annotations

import pytest
import socketio

from services.jobs.runner import JobRunner
from services.scans.executor import ScanExecutor
from services.scans.views import KIND
from tests.auth_helpers import access_token, bearer, make_user
from tests.waiting import wait_for

HEARTBEAT_S = 0.3


FAST_JOBS = {"job_heartbeat_interval_s": HEARTBEAT_S, "job_poll_interval_s": 0.1}


@pytest.fixture
def app(make_app, db_config):
    """An app on the session database whose jobs heartbeat every 0.3 s (stale after 0.9 s)."""
    return make_app(db_config, **FAST_JOBS)


@pytest.fixture
def make_runner(app, make_app, db_config):
    """Factory: a started JobRunner with a real ScanExecutor (its own scan process), on `app` or, with setting
    overrides or own_app=True, on an app of its own; stopped after the test."""
    runners = []

    def make(own_app: bool = False, **overrides):
        application = make_app(db_config, **FAST_JOBS, **overrides) if own_app or overrides else app
        runner = JobRunner(application, {KIND: ScanExecutor(application)})
        runner.start()
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop()


class User:
    """A signed-in user of the test client."""

    def __init__(self, app, db_conn, name: str) -> None:
        self.user_id = make_user(db_conn, f"{name}@example.com", name=name)
        self.token = access_token(app, self.user_id)
        self.client = app.test_client()
        self.headers = bearer(self.token)

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers, **kwargs)

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)

    def scan(self, scan_id: int) -> dict:
        return self.get(f"/scans/{scan_id}").get_json()["data"]

    def wait(self, scan_id: int, statuses=("completed", "failed", "cancelled"), timeout: float = 60) -> dict:
        """The scan once its status is one of `statuses`."""
        seen = {}
        wait_for(lambda: seen.update(self.scan(scan_id)) or seen["status"] in statuses, timeout)
        return seen


@pytest.fixture
def make_user_client(app, db_conn):
    """Factory: a User with a token, by name."""
    return lambda name="alice": User(app, db_conn, name)


class Listener:
    """A real Socket.IO client in a user's room, recording scan events."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("scan_progress", lambda data: self.events.append(("scan_progress", data)))
        self.client.on("scan_done", lambda data: self.events.append(("scan_done", data)))
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def wait_done(self, scan_id: int, timeout: float = 60) -> list[tuple[str, dict]]:
        """The scan's events up to its scan_done."""
        wait_for(lambda: any(n == "scan_done" and d["scan_id"] == scan_id for n, d in self.events), timeout)
        return [(n, d) for n, d in self.events if d["scan_id"] == scan_id]
