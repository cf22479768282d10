"""The app as a real server for browser, server and shutdown tests and benchmarks: gunicorn (gevent worker) on
a free loopback port, with the environment given, stopped cleanly afterwards; and how they start Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from backend.local_mariadb import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # Debian's; Playwright's own download does not work
# Headless without a sandbox (root in a container), and without the background requests a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]


class LocalApp:
    """Start `gunicorn -c gunicorn.conf.py <app>` on 127.0.0.1; output goes to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path, app: str = "backend.wsgi:app") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.log_path = log_path
        self.app = app
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        """The gunicorn master's process id (its workers are its children)."""
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self, timeout_s: float = 30) -> LocalApp:
        """Start the server and wait until /health answers (RuntimeError with the log tail otherwise)."""
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the app server exited ({self._process.returncode}):\n{self._log_tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or still starting up
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the app server did not answer within {timeout_s}s:\n{self._log_tail()}")

    def signal(self, signum: int) -> None:
        """Send `signum` to the gunicorn master, as a platform or a terminal would."""
        if self._process is not None:
            self._process.send_signal(signum)

    def wait(self, timeout_s: float) -> int:
        """Wait for the server to exit; its exit code (subprocess.TimeoutExpired when it does not)."""
        if self._process is None:
            raise RuntimeError("the app server was not started")
        return self._process.wait(timeout=timeout_s)

    def log(self) -> str:
        """What the server has written so far."""
        return self.log_path.read_text()

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 15 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _log_tail(self) -> str:
        return self.log()[-3000:]
