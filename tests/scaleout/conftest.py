"""Scale-out fixtures: a throwaway Redis server, a scratch database, and app server processes on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backend.local_mariadb import free_port
from tests.conftest import migrate_and_seed

ROOT = Path(__file__).resolve().parents[2]
SCALEOUT_DB = "test_scaleout"
ADMIN_EMAIL = "ops@example.com"


@pytest.fixture(scope="session")
def scaleout_db(make_database):
    """A migrated database seeded with 5 days of history, shared by the app processes of these tests."""
    return migrate_and_seed(make_database(SCALEOUT_DB), days=5)


COMMANDS = {
    "gunicorn": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi:app"],
    "eventlet": [sys.executable, "-m", "backend", "serve"],
}


class AppProcess:
    """One server of the app (gunicorn + gevent, or the eventlet dev server) in its own process group."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, server: str = "gunicorn") -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**env, "PORT": str(self.port), "ALLOWED_ORIGINS": self.url}
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            COMMANDS[server], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_started(self, timeout_s: float = 45) -> AppProcess:
        """Wait until /health answers."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start: {self.log()[-3000:]}")
            time.sleep(0.2)

    def leader_check(self) -> dict:
        """The `leader` readiness check as /healthz reports it."""
        body = requests.get(self.url + "/healthz", timeout=5).json()
        checks = body["data"]["checks"] if body["status"] == "success" else body["error"]["details"]["checks"]
        return checks["leader"]

    def log(self) -> str:
        """What the server wrote so far."""
        self._log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the whole process group (master and worker), as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM the master, as the platform does on a deploy or scale-down."""
        self.process.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """Stop it, however it is doing."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture(scope="module")
def start_app(scaleout_db, redis_url, tmp_path_factory):
    """Factory: start app processes on the shared database and Redis; every one is stopped afterwards."""
    started: list[AppProcess] = []
    logs = tmp_path_factory.mktemp("scaleout-logs")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_", "REDIS_"))}
    base.update(
        {
            "DATABASE_URL": scaleout_db.url(),
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "HOST": "127.0.0.1",
            "APP_ENV": "test",
            "LOG_LEVEL": "INFO",
            "ADMIN_EMAILS": ADMIN_EMAIL,
            "SIM_ALWAYS_OPEN": "1",
            "SIM_TICK_INTERVAL_S": "0.25",
            "FANOUT_INTERVAL_MS": "50",
            "QUOTE_WRITE_INTERVAL_S": "0.5",
            "LEADER_CHECK_INTERVAL_S": "0.5",
            "ENABLE_EOD_SCHEDULER": "0",
            "NEWS_REFRESH_INTERVAL_S": "3600",
            "GUNICORN_GRACEFUL_TIMEOUT": "10",
        }
    )

    def start(*names: str, servers: dict[str, str] | None = None) -> list[AppProcess]:
        """Start processes (gunicorn unless `servers` names another for one) and wait until all answer."""
        apps = [AppProcess(name, base, logs / f"{name}.log", (servers or {}).get(name, "gunicorn")) for name in names]
        started.extend(apps)
        return [app.wait_started() for app in apps]  # they boot in parallel

    yield start
    for app in started:
        app.close()
