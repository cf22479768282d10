"""Scheduled crawler runs: the leader's job that queues a run of every enabled job whose cron firing has come.

Each job keeps its next firing (`next_run_at`, from its 5-field cron expression on Asia/Kolkata's clock). The leader
checks every CHECK_INTERVAL_S; a due job gets its next firing moved on with a conditional UPDATE and a run queued in
the same transaction, so a firing queues one run even if two processes looked. A job whose previous run is still
queued or running skips the firing; firings missed while no leader ran are caught up once, not one by one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from backend import db
from backend.extensions import app_extensions
from controller.fundamentals import crawler_jobs
from services.fundamentals.runs import run_params
from services.market.market_clock import clock
from utils.cron import next_fire

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 20.0


def enqueue_due_runs(now: datetime | None = None) -> list[int]:
    """Queue a run of every due job (and plan jobs that have a schedule but no next firing); the runs queued."""
    now = now or clock()
    queued = []
    with db.connection() as conn:
        for job in crawler_jobs.unplanned(conn):
            crawler_jobs.advance(conn, job.crawler_job_id, None, next_fire(job.schedule, now))
        due = crawler_jobs.due(conn, now)
    for job in due:
        with db.transaction() as conn:
            upcoming = next_fire(job.schedule, now) if job.schedule else None
            if not crawler_jobs.advance(conn, job.crawler_job_id, job.next_run_at, upcoming):
                continue  # another process handled this firing, or the job was edited meanwhile
            active = crawler_jobs.active_run(conn, job.crawler_job_id)
            if active is not None:
                log.info("crawler job %r: run %d still active, firing skipped", job.name, active)
                continue
            queued.append(crawler_jobs.enqueue_run(conn, job.crawler_job_id, run_params(job, "schedule"), None))
    if queued:
        runner = app_extensions().get("job_runner")
        if runner is not None:
            runner.wake()
    return queued
