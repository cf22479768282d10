"""Crawler jobs as administrators manage them (the admin API and `python -m backend crawler-job`): create, change,
delete, run now, list with their last run, and a job's runs.

A request's shape is checked by its model (routes/crawler_jobs.py); what depends on the running system is checked
here: the source must be available, the symbols known and at most CRAWLER_MAX_SYMBOLS, a job has either symbols or
`universe: all`. A universe job without a schedule gets CRAWLER_UNIVERSE_SCHEDULE.
"""

from __future__ import annotations

from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.fundamentals import crawler_jobs
from controller.fundamentals.crawler_jobs import CrawlerJob
from controller.jobs import jobs
from services.fundamentals import providers, views
from services.fundamentals.runs import run_params
from services.market import stock_views
from services.market.market_clock import clock
from utils.cron import next_fire
from utils.errors import Conflict, NotFound, ValidationError, field_error


def _settings() -> Any:
    return app_extensions()["settings"]


def _check_source(source: str) -> None:
    allowed = providers.available(_settings())
    if source not in allowed:
        raise ValidationError(
            f"unknown or unavailable source {source!r}",
            details={"allowed": list(allowed)},
            fields=[field_error("source", f"one of {', '.join(allowed)}")],
        )


def _check_symbols(symbols: list[str]) -> list[str]:
    limit = _settings().crawler_max_symbols
    if not symbols:
        raise ValidationError(
            "a crawler job needs symbols or universe: all",
            fields=[field_error("symbols", "give at least one symbol, or universe: all")],
        )
    if len(symbols) > limit:
        raise ValidationError(
            f"at most {limit} symbols per job (or universe: all)",
            details={"limit": limit},
            fields=[field_error("symbols", f"at most {limit} symbols (CRAWLER_MAX_SYMBOLS)")],
        )
    symbols = list(dict.fromkeys(symbols))
    unknown = [s for s in symbols if s not in stock_views.known_symbols()]
    if unknown:
        raise ValidationError(
            f"unknown symbols: {', '.join(unknown[:20])}",
            details={"unknown": unknown},
            fields=[field_error("symbols", f"unknown: {', '.join(unknown[:20])}")],
        )
    return symbols


def _target(request: dict[str, Any]) -> dict[str, Any]:
    """`universe_all` and `symbols` from a request that names symbols or the universe (not both)."""
    if "universe" in request and request["universe"] is not None:
        if request.get("symbols"):
            raise ValidationError(
                "give symbols or universe: all, not both",
                fields=[field_error("universe", "not together with symbols")],
            )
        return {"universe_all": True, "symbols": []}
    return {"universe_all": False, "symbols": _check_symbols(request.get("symbols") or [])}


def _planned(values: dict[str, Any]) -> dict[str, Any]:
    """`values` with next_run_at: the schedule's next firing while the job is enabled, else None."""
    schedule, enabled = values.get("schedule"), values.get("enabled")
    return {**values, "next_run_at": next_fire(schedule, clock()) if schedule and enabled else None}


def create(request: dict[str, Any], created_by: int | None) -> dict[str, Any]:
    """Create a job from a validated request (name, symbols | universe, source, metadata, schedule, enabled)."""
    _check_source(request["source"])
    values = {
        "name": request["name"],
        **_target(request),
        "source": request["source"],
        "metadata": request.get("metadata") or {},
        "schedule": request.get("schedule"),
        "enabled": request.get("enabled", True),
    }
    if values["universe_all"] and "schedule" not in request:
        values["schedule"] = _settings().crawler_universe_schedule
    with db.transaction() as conn:
        job_id = crawler_jobs.create(conn, _planned(values), created_by)
        job = crawler_jobs.get(conn, job_id)
    return views.job_json(job, None)


def _get(conn: Any, job_id: int, lock: bool = False) -> CrawlerJob:
    job = crawler_jobs.get(conn, job_id, lock)
    if job is None:
        raise NotFound(f"no crawler job {job_id}")
    return job


def update(job_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some fields of a job (its next firing follows its schedule and enabled flag)."""
    if "source" in changes:
        _check_source(changes["source"])
    values = {k: v for k, v in changes.items() if k in ("name", "source", "metadata", "schedule", "enabled")}
    if "symbols" in changes or "universe" in changes:
        values.update(_target(changes))
    with db.transaction() as conn:
        job = _get(conn, job_id, lock=True)
        merged = {"schedule": job.schedule, "enabled": job.enabled, **values}
        crawler_jobs.update(conn, job_id, _planned(merged))
        updated = crawler_jobs.get(conn, job_id)
        last = crawler_jobs.last_runs(conn).get(job_id)
        last_run = jobs.get(conn, last) if last else None
    return views.job_json(updated, last_run)


def delete(job_id: int) -> None:
    """Delete a job and its finished runs; its queued run is cancelled, a running one asked to stop (they are kept,
    unlinked, as the jobs table keeps every job until it is deleted)."""
    with db.transaction() as conn:
        _get(conn, job_id, lock=True)
        active = crawler_jobs.active_run(conn, job_id)
        crawler_jobs.delete(conn, job_id)
        if active is not None and not jobs.cancel_queued(conn, active):
            jobs.request_cancel(conn, active)


def trigger(job_id: int, user_id: int) -> dict[str, Any]:
    """Queue a run of a job now; Conflict while it has a queued or running one."""
    with db.transaction() as conn:
        job = _get(conn, job_id, lock=True)
        active = crawler_jobs.active_run(conn, job_id)
        if active is not None:
            raise Conflict(f"crawler job {job_id} has a run queued or running", details={"run_id": active})
        run_id = crawler_jobs.enqueue_run(conn, job_id, run_params(job, "manual"), user_id)
        run = jobs.get(conn, run_id)
    runner = app_extensions().get("job_runner")
    if runner is not None:
        runner.wake()  # this process may claim it at once; any other polls within JOB_POLL_INTERVAL_S
    return views.run_json(run)


def list_jobs() -> list[dict[str, Any]]:
    """Every job with its last run, by name."""
    with db.connection() as conn:
        found = crawler_jobs.list_all(conn)
        last = crawler_jobs.last_runs(conn)
        runs = {job_id: jobs.get(conn, job_id) for job_id in last.values()}
    return [views.job_json(job, runs.get(last.get(job.crawler_job_id))) for job in found]


def runs(job_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    """A job's runs, newest first."""
    with db.connection() as conn:
        _get(conn, job_id)
        return [views.run_json(run) for run in crawler_jobs.runs(conn, job_id, limit, offset)]
