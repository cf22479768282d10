"""The scan job handler of a web process: hands scans to its scan process and relays what that process reports.

The scan process (services/scans/scan_process.py) is started on the first scan and kept, with its warm panel, for
the next ones; one that dies is started afresh for the next scan and its scan fails with the reason. Its pipe is
read with `select` and non-blocking reads, which gevent and eventlet make cooperative, so the event loop never
waits on it. Progress reaches the owner's `user:<id>` room as `scan_progress`, at most every PROGRESS_EMIT_S.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask

from backend.extensions import socketio
from controller.jobs.jobs import Job
from services.jobs.runner import JobContext, Outcome
from services.realtime.websocket_manager import user_room
from services.scans import views
from services.scans.scan_process import DATABASE_URL_ENV

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent
PROGRESS_EMIT_S = 0.2  # at most ~5 scan_progress events a second
KILL_GRACE_S = 5.0  # past the timeout, a scan process that has not answered is killed
READY_TIMEOUT_S = 60.0
_EOF = object()


class ScanProcessGone(Exception):
    """The scan process exited (or never became ready)."""


class ScanExecutor:
    """Runs scan jobs in this web process's scan process (JobHandler of services/jobs/runner.py)."""

    def __init__(self, app: Flask) -> None:
        settings = app.extensions["settings"]
        self.database_url = settings.database().url()
        self.timeout_s = settings.scan_timeout_s
        self.max_rows = settings.scan_max_results
        self.log_level = settings.log_level
        self.proc: subprocess.Popen | None = None
        self._buffer = b""
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The scan process's pid while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def ensure_started(self) -> int:
        """Start the scan process unless it runs; its pid."""
        self._stopping = False
        if self.proc is None or self.proc.poll() is not None:
            self._spawn()
        return self.proc.pid

    def _spawn(self) -> None:
        env = {**os.environ, DATABASE_URL_ENV: self.database_url, "LOG_LEVEL": self.log_level}
        self._buffer = b""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.scans.scan_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        message = self._read(time.monotonic() + READY_TIMEOUT_S)
        if not isinstance(message, dict) or message.get("event") != "ready":
            self._kill()
            raise ScanProcessGone("the scan process did not start")
        log.info("scan process started (pid %d)", self.proc.pid)

    def _read(self, deadline: float) -> dict[str, Any] | object | None:
        """The next message, None when none came before `deadline`, _EOF when the process closed its output."""
        fd = self.proc.stdout.fileno()
        while True:
            line, sep, rest = self._buffer.partition(b"\n")
            if sep:
                self._buffer = rest
                return json.loads(line)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    return _EOF
                self._buffer += chunk

    def run(self, job: Job, ctx: JobContext) -> Outcome:
        """Send the scan to the scan process and relay its progress until it reports the end."""
        try:
            self.ensure_started()
            request = {"job_id": job.job_id, "spec": job.params["spec"], "max_rows": self.max_rows}
            request["timeout_s"] = self.timeout_s
            os.write(self.proc.stdin.fileno(), (json.dumps(request) + "\n").encode())
        except (OSError, ScanProcessGone) as exc:
            self._kill()
            return Outcome("failed", "the scan process could not be started", error=str(exc))
        hard_deadline = time.monotonic() + self.timeout_s + KILL_GRACE_S
        last_emit = 0.0
        while True:
            message = self._read(min(hard_deadline, time.monotonic() + 0.5))
            if message is _EOF:
                code = self.proc.wait() if self.proc is not None else None
                self.proc = None
                reason = (
                    "the server shut down during the scan"
                    if self._stopping
                    else f"the scan process exited unexpectedly (exit code {code})"
                )
                log.error("scan %d failed: %s", job.job_id, reason)
                return Outcome("failed", reason, error=reason)
            if message is None:
                if time.monotonic() >= hard_deadline or ctx.lost:
                    self._kill()
                    reason = f"timed out after {self.timeout_s:g} s" if not ctx.lost else "failed by another process"
                    return Outcome("failed", reason, error=reason)
                continue
            if message.get("job_id") != job.job_id:
                continue
            if message["event"] == "progress":
                ctx.report(
                    **{k: message[k] for k in ("progress_percent", "processed", "total", "current_item", "message")},
                    result={"results_found": message["results_found"]},
                )
                now = time.monotonic()
                if now - last_emit >= PROGRESS_EMIT_S:
                    last_emit = now
                    self.publish_progress(job, ctx.progress)
            elif message["event"] == "done":
                summary = {k: message[k] for k in ("results_found", "stored", "truncated") if k in message}
                return Outcome(message["status"], message["message"], summary, message.get("error"))

    def publish_progress(self, job: Job, progress: dict[str, Any]) -> None:
        """scan_progress to the owner."""
        socketio.emit("scan_progress", views.progress_event(job.job_id, progress), to=user_room(job.owner_id))

    def publish_done(self, job: Job) -> None:
        """scan_done to the owner."""
        socketio.emit("scan_done", views.done_event(job), to=user_room(job.owner_id))

    def stop(self) -> None:
        """Stop the scan process: close its input (it exits between jobs), then SIGTERM, then SIGKILL."""
        self._stopping = True
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.stdin.close()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        self.proc = None
        log.info("scan process stopped (pid %d)", proc.pid)

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
