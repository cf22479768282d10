"""Crawler runs as jobs: the `crawl` handler of the job runner (services/jobs/runner.py).

A run is claimed by whichever process has a free crawl slot; it asks its source for every instrument in turn
(I/O through the HTTP client, which gevent makes cooperative, with a yield after each instrument), stores a chunk at
a time, and reports `crawler_run_progress` to the admins' Socket.IO room at most every PROGRESS_EMIT_S and once
more when it ends. An instrument that fails is counted and listed; the run goes on.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from backend.extensions import socketio
from controller.fundamentals import crawler_jobs, store
from controller.jobs.jobs import Job
from services.fundamentals import peg_table, providers, views
from services.fundamentals.crawler import CrawlReport, crawl
from services.jobs.runner import JobContext, Outcome
from services.platform.green import pause
from services.realtime.websocket_manager import ADMIN_ROOM

KIND = crawler_jobs.CRAWL_KIND
PROGRESS_EMIT_S = 0.2


def run_params(job: crawler_jobs.CrawlerJob, trigger: str) -> dict[str, Any]:
    """What a run of `job` does, frozen when it is queued (a later edit of the job does not change it)."""
    return {
        "crawler_job_id": job.crawler_job_id,
        "name": job.name,
        "universe": "all" if job.universe_all else None,
        "symbols": [] if job.universe_all else job.symbols,
        "source": job.source,
        "trigger": trigger,
    }


class CrawlHandler:
    """Runs crawl jobs in this process (JobHandler of services/jobs/runner.py)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def run(self, job: Job, ctx: JobContext) -> Outcome:
        """Crawl the run's instruments from its source and store them; the outcome with the counts."""
        settings = self.app.extensions["settings"]
        params = job.params
        wanted = None if params.get("universe") == "all" else params["symbols"]
        with self.app.extensions["db"].connection() as conn:
            targets = store.crawl_targets(conn, wanted)
        missing = sorted(set(wanted or ()) - {t.symbol for t in targets})
        try:
            provider = providers.create(params["source"], settings)
        except providers.ProviderError as exc:
            return Outcome("failed", str(exc), error=str(exc))
        last_emit = [0.0]

        def progress(report: CrawlReport, symbol: str) -> None:
            ctx.report(
                progress_percent=round(100 * report.processed / max(report.total, 1), 1),
                processed=report.processed,
                total=report.total,
                current_item=symbol,
                result={"updated": report.updated, "failed": report.failed},
            )
            now = time.monotonic()
            if now - last_emit[0] >= PROGRESS_EMIT_S:
                last_emit[0] = now
                self.publish_progress(job, ctx.progress)

        def save(rows: list) -> None:
            with self.app.extensions["db"].transaction() as conn:
                store.store(conn, rows, pause)

        ctx.report(total=len(targets) + len(missing), processed=0, message=f"crawling from {params['source']}")
        try:
            report = crawl(
                targets, provider, save, missing=missing, on_progress=progress, should_stop=ctx.should_stop, pause=pause
            )
        finally:
            provider.close()
            peg_table.forget_stored()
        return _outcome(report)

    def publish_progress(self, job: Job, progress: dict[str, Any]) -> None:
        """crawler_run_progress to the admins."""
        socketio.emit("crawler_run_progress", views.progress_event(job, progress), to=ADMIN_ROOM)

    def publish_done(self, job: Job) -> None:
        """The last crawler_run_progress of a run (its terminal status) to the admins."""
        socketio.emit("crawler_run_progress", views.done_event(job), to=ADMIN_ROOM)

    def stop(self) -> None:
        """Nothing runs outside this process's tasks: a running crawl sees its cancel flag and ends."""


def _outcome(report: CrawlReport) -> Outcome:
    result = {
        "updated": report.updated,
        "failed": report.failed,
        "failures": report.failures,
        "processed": report.processed,
        "total": report.total,
    }
    if report.cancelled:
        return Outcome("cancelled", f"cancelled: {report.summary()}", result)
    if report.total and report.updated == 0:
        first = report.failures[0]["error"] if report.failures else "nothing stored"
        return Outcome("failed", f"every instrument failed: {first}"[:255], result, error=first)
    return Outcome("completed", report.summary(), result)
