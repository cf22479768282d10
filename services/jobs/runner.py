"""The job runner of one process: claims queued jobs from MySQL, runs them, heartbeats, and fails dead processes' jobs.

Every process that runs `start_services` runs one. It claims the oldest queued job of the kinds it has handlers for
(`SELECT … FOR UPDATE SKIP LOCKED`, controller/jobs/jobs.py) while it has a free slot of that kind
(JOB_SLOTS_PER_PROCESS per kind, so a long crawl never holds up a scan), and capacity grows with processes and
machines. While a job runs, a ticker refreshes its heartbeat and progress every
JOB_HEARTBEAT_INTERVAL_S and notices a cancel request; any runner fails a running job whose heartbeat is older than
three intervals (its process died). Handlers do the kind-specific work (services/scans/executor.py for scans).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask

from backend.extensions import socketio
from controller.jobs import jobs
from controller.jobs.jobs import Job

log = logging.getLogger(__name__)
STALE_AFTER_BEATS = 3


@dataclass
class Outcome:
    """How a job ended: a terminal status, a message, the kind's result summary and an error for failures."""

    status: str
    message: str
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class JobContext:
    """What a handler sees of its running job: progress to record and publish, and whether to stop."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.runner = runner
        self.job = job
        self.progress: dict[str, Any] = {"result": dict(job.result)}
        self.cancel_requested = False
        self.lost = False  # another process failed this job (our heartbeat went stale)

    def report(self, **progress: Any) -> None:
        """Record progress (progress_percent, processed, total, current_item, message; `result` entries are merged
        into the job's result); the ticker stores it."""
        result = progress.pop("result", {})
        self.progress.update(progress)
        self.progress["result"].update(result)

    def should_stop(self) -> bool:
        """True once the job was cancelled or is no longer ours."""
        return self.cancel_requested or self.lost


class JobHandler(Protocol):
    """The kind-specific part of a job."""

    def run(self, job: Job, ctx: JobContext) -> Outcome:
        """Do the work; return how it ended (exceptions fail the job)."""

    def publish_progress(self, job: Job, progress: dict[str, Any]) -> None:
        """Tell the job's audience how far it got."""

    def publish_done(self, job: Job) -> None:
        """Tell the job's audience it reached a terminal status (`job` as stored)."""

    def stop(self) -> None:
        """Release what the handler holds (child processes); the runner is stopping."""


def process_id() -> str:
    """This process's claim identity: host, pid and a random part (a restarted process never reuses one)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Claims and runs jobs of the handled kinds in this process."""

    def __init__(self, app: Flask, handlers: dict[str, JobHandler]) -> None:
        settings = app.extensions["settings"]
        self.app = app
        self.handlers = handlers
        self.slots = settings.job_slots_per_process
        self.poll_interval_s = settings.job_poll_interval_s
        self.heartbeat_interval_s = settings.job_heartbeat_interval_s
        self.claimed_by = process_id()
        self.running: dict[int, JobContext] = {}
        self._stopping = False
        self._woken = False
        self._last_reap = 0.0

    def start(self) -> None:
        """Start the claim loop."""
        self._stopping = False
        socketio.start_background_task(self._loop)

    def wake(self) -> None:
        """Look for a queued job now rather than at the next poll (a job was just queued in this process)."""
        self._woken = True

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop claiming, stop the handlers (their children) and give running jobs a moment to record how they ended."""
        self._stopping = True
        for ctx in self.running.values():
            ctx.cancel_requested = True
        for handler in self.handlers.values():
            handler.stop()
        deadline = time.monotonic() + timeout_s
        while self.running and time.monotonic() < deadline:
            socketio.sleep(0.05)

    def _loop(self) -> None:
        while not self._stopping:
            try:
                with self.app.app_context():
                    self.pass_once()
            except Exception:  # a database outage must not end the loop
                log.exception("job runner pass failed")
            _sleep_while(lambda: not (self._woken or self._stopping), self.poll_interval_s)
            self._woken = False

    def pass_once(self) -> Job | None:
        """Reap stale jobs (once per heartbeat interval) and claim one job of a kind with a free slot; the job
        claimed."""
        now = time.monotonic()
        if now - self._last_reap >= self.heartbeat_interval_s:
            self._last_reap = now
            self.reap()
        busy = [ctx.job.kind for ctx in list(self.running.values())]
        free = tuple(kind for kind in self.handlers if busy.count(kind) < self.slots)
        if not free or self._stopping:
            return None
        with self.app.extensions["db"].transaction() as conn:
            job = jobs.claim(conn, free, self.claimed_by)
        if job is not None:
            ctx = JobContext(self, job)
            self.running[job.job_id] = ctx
            socketio.start_background_task(self._run, ctx)
        return job

    def reap(self) -> list[Job]:
        """Fail running jobs whose heartbeat is older than three intervals, and tell their owners."""
        stale_after = STALE_AFTER_BEATS * self.heartbeat_interval_s
        reason = f"the process running this job stopped (no heartbeat for {stale_after:g} s)"
        with self.app.extensions["db"].transaction() as conn:
            reaped = jobs.reap_stale(conn, stale_after, reason)
        for job in reaped:
            log.warning("job %d (%s) failed: %s", job.job_id, job.kind, reason)
            handler = self.handlers.get(job.kind)
            if handler is not None:
                self._publish_done(handler, job.job_id)
        return reaped

    def _run(self, ctx: JobContext) -> None:
        job = ctx.job
        handler = self.handlers[job.kind]
        socketio.start_background_task(self._tick, ctx)
        try:
            with self.app.app_context():
                try:
                    outcome = handler.run(job, ctx)
                except Exception as exc:  # a handler's failure fails its job, never the runner
                    log.exception("job %d (%s) failed", job.job_id, job.kind)
                    outcome = Outcome("failed", "failed: internal error", error=f"{type(exc).__name__}: {exc}")
                with self.app.extensions["db"].connection() as conn:
                    stored = jobs.finish(
                        conn,
                        job.job_id,
                        self.claimed_by,
                        outcome.status,
                        outcome.message,
                        {**ctx.progress.get("result", {}), **outcome.result},
                        outcome.error,
                        100.0 if outcome.status == "completed" else None,
                    )
                if stored:
                    self._publish_done(handler, job.job_id)
        finally:
            self.running.pop(job.job_id, None)  # also ends the ticker

    def _tick(self, ctx: JobContext) -> None:
        """Heartbeat and progress every interval while the job runs; notice cancel requests and lost claims."""
        job_id = ctx.job.job_id
        while job_id in self.running:
            try:
                with self.app.app_context(), self.app.extensions["db"].connection() as conn:
                    cancel = jobs.beat(conn, job_id, self.claimed_by, ctx.progress)
                if cancel is None:
                    ctx.lost = True
                elif cancel:
                    ctx.cancel_requested = True
            except Exception:  # a missed beat is retried; three in a row let another process fail the job
                log.exception("heartbeat of job %d failed", job_id)
            _sleep_while(lambda: job_id in self.running, self.heartbeat_interval_s)

    def _publish_done(self, handler: JobHandler, job_id: int) -> None:
        with self.app.extensions["db"].connection() as conn:
            job = jobs.get(conn, job_id)
        if job is not None:
            handler.publish_done(job)


def _sleep_while(condition: Any, seconds: float, step: float = 0.05) -> None:
    """Sleep up to `seconds`, waking early once `condition()` turns false."""
    deadline = time.monotonic() + seconds
    while condition() and time.monotonic() < deadline:
        socketio.sleep(min(step, max(deadline - time.monotonic(), 0)))
