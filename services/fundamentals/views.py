"""The JSON shapes of crawler jobs and their runs: the admin API's objects and the `crawler_run_progress` event."""

from __future__ import annotations

from typing import Any

from controller.fundamentals.crawler_jobs import CrawlerJob
from controller.jobs.jobs import Job
from utils.timeutil import iso_ist


def job_json(job: CrawlerJob, last_run: Job | None) -> dict[str, Any]:
    """A crawler job with its newest run."""
    return {
        "job_id": job.crawler_job_id,
        "name": job.name,
        "universe": "all" if job.universe_all else None,
        "symbols": job.symbols,
        "source": job.source,
        "metadata": job.metadata,
        "schedule": job.schedule,
        "enabled": job.enabled,
        "next_run_at": iso_ist(job.next_run_at),
        "created_by": job.created_by,
        "created_at": iso_ist(job.created_at),
        "updated_at": iso_ist(job.updated_at),
        "last_run": None if last_run is None else run_json(last_run),
    }


def run_json(run: Job) -> dict[str, Any]:
    """One run of a crawler job (a row of `jobs`; a finished run's counts are in its result, exact at the end)."""
    result = run.result
    return {
        "run_id": run.job_id,
        "job_id": run.params.get("crawler_job_id"),
        "status": run.status,
        "trigger": run.params.get("trigger"),
        "source": run.params.get("source"),
        "progress_percent": round(run.progress_percent, 1),
        "processed": int(result.get("processed", run.processed)),
        "total": int(result.get("total", run.total)),
        "updated": int(result.get("updated", 0)),
        "failed": int(result.get("failed", 0)),
        "failures": result.get("failures", []),
        "message": run.message,
        "error": run.error,
        "created_at": iso_ist(run.created_at),
        "started_at": iso_ist(run.started_at),
        "finished_at": iso_ist(run.finished_at),
        "execution_time_s": run.execution_time_s,
    }


def progress_event(run: Job, progress: dict[str, Any]) -> dict[str, Any]:
    """`crawler_run_progress` of a running run from its latest progress."""
    result = progress.get("result", {})
    return {
        "job_id": run.params.get("crawler_job_id"),
        "run_id": run.job_id,
        "status": "running",
        "processed": progress.get("processed", 0),
        "total": progress.get("total", 0),
        "updated": result.get("updated", 0),
        "failed": result.get("failed", 0),
    }


def done_event(run: Job) -> dict[str, Any]:
    """`crawler_run_progress` of a run in a terminal status (as stored)."""
    return {
        "job_id": run.params.get("crawler_job_id"),
        "run_id": run.job_id,
        "status": run.status,
        "processed": int(run.result.get("processed", run.processed)),
        "total": int(run.result.get("total", run.total)),
        "updated": int(run.result.get("updated", 0)),
        "failed": int(run.result.get("failed", 0)),
    }
