"""A generic job loop: interval, market-phase gating, survives exceptions, records every run.

Each job runs in a background task of its own (`socketio.start_background_task`, so it is a
greenlet under gevent/eventlet and a thread in tests), sleeps with `socketio.sleep`, and runs each
pass inside an app context. A run's outcome goes to the `scheduler_runs` table (skips only when the
status changes, so a closed market does not write every second) and to Prometheus.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask

from backend import db
from backend.extensions import socketio
from controller.platform import scheduler_runs
from utils import metrics
from utils.errors import ServiceUnavailable, already_logged
from utils.timeutil import iso_ist, now_utc, to_db

log = logging.getLogger(__name__)
_HOST = socket.gethostname()


@dataclass
class Job:
    """A named function run every `interval_s` seconds (once, when interval_s is None).

    `phases` limits runs to those market phases ("pre_open", "open", "closed"); None runs always.
    """

    name: str
    interval_s: float | None
    func: Callable[[], Any]
    phases: frozenset[str] | None = None
    enabled: bool = True
    last_started_at: datetime | None = None
    last_duration_ms: int | None = None
    last_status: str | None = None
    last_error: str | None = None
    run_count: int = 0
    error_count: int = 0
    consecutive_errors: int = 0
    lag_s: float = 0.0
    _recorded_status: str | None = field(default=None, repr=False)

    def state(self) -> dict[str, Any]:
        """JSON-friendly state for /healthz and the admin jobs endpoint."""
        return {
            "enabled": self.enabled,
            "interval_s": self.interval_s,
            "last_run": iso_ist(self.last_started_at),
            "last_duration_ms": self.last_duration_ms,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "run_count": self.run_count,
            "error_count": self.error_count,
            "lag_s": round(self.lag_s, 3),
        }


class Scheduler:
    """Runs a set of jobs for one app until stopped.

    `phase` names the market phase now (called in an app context); jobs with `phases` need it.
    """

    def __init__(self, app: Flask, jobs: list[Job], phase: Callable[[], str] | None = None) -> None:
        if phase is None and any(job.phases is not None for job in jobs):
            raise ValueError("jobs gated by market phase need a `phase` source")
        self.app = app
        self.jobs = {job.name: job for job in jobs}
        self._phase = phase
        self._running = False

    def start(self) -> None:
        """Start one background loop per enabled job."""
        self._running = True
        for job in self.jobs.values():
            if job.enabled:
                socketio.start_background_task(self._loop, job)

    def stop(self) -> None:
        """Ask every loop to finish after its current pass."""
        self._running = False

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._running

    def run_now(self, name: str) -> str:
        """Run one job once, now, ignoring its phase gate; return its status ("ok" or "error")."""
        return self.run_once(self.jobs[name], gated=False)

    def run_once(self, job: Job, gated: bool = True) -> str:
        """One pass of `job` in an app context: skip outside its phases, else run and record; never raises."""
        with self.app.app_context():
            if gated and job.phases is not None and self._phase() not in job.phases:
                job.last_status = "skipped"
                self._record(job, now_utc(), None, "skipped", None)
                return "skipped"
            started_at, started = now_utc(), time.perf_counter()
            error = None
            try:
                job.func()
            except Exception as exc:  # the loop must survive any job failure; it is logged and recorded
                error = f"{exc.__class__.__name__}: {exc}"
                if not already_logged(exc):
                    log.exception("job %s failed", job.name)
            elapsed = time.perf_counter() - started
            status = "error" if error else "ok"
            job.last_started_at, job.last_duration_ms = started_at, int(elapsed * 1000)
            job.last_status, job.last_error = status, error
            job.run_count += 1
            job.error_count += bool(error)
            job.consecutive_errors = job.consecutive_errors + 1 if error else 0
            metrics.SCHEDULER_JOB_SECONDS.labels(job.name).observe(elapsed)
            if error:
                metrics.SCHEDULER_JOB_ERRORS.labels(job.name).inc()
            self._record(job, started_at, int(elapsed * 1000), status, error)
            return status

    def _record(self, job: Job, started_at: datetime, duration_ms: int | None, status: str, error: str | None) -> None:
        if status == "skipped" and job._recorded_status == "skipped":
            return
        try:
            with db.connection() as conn:
                scheduler_runs.record_run(
                    conn, job.name, to_db(started_at), to_db(now_utc()), duration_ms, status, error, _HOST
                )
            job._recorded_status = status
        except ServiceUnavailable as exc:
            if not already_logged(exc):
                log.warning("could not record run of %s: database unavailable", job.name)

    def _loop(self, job: Job) -> None:
        due = time.monotonic()
        while self._running:
            job.lag_s = max(0.0, time.monotonic() - due)
            metrics.SCHEDULER_LAG.labels(job.name).set(job.lag_s)
            self.run_once(job)
            if job.interval_s is None:
                return
            due = max(due + job.interval_s, time.monotonic())  # fell behind: skip missed slots, no burst
            self._sleep_until(due)

    def _sleep_until(self, due: float) -> None:
        """Sleep in short slices so stop() takes effect within half a second."""
        while self._running and (remaining := due - time.monotonic()) > 0:
            socketio.sleep(min(remaining, 0.5))

    def states(self) -> dict[str, dict[str, Any]]:
        """Every job's state by name."""
        return {name: job.state() for name, job in self.jobs.items()}
