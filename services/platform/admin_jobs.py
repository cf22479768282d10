"""Scheduler jobs as the admin sees them: recorded runs, the run-now registry, and leadership."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.platform.job_runs import list_job_runs
from utils.errors import AppError, NotFound

log = logging.getLogger(__name__)


class JobFailed(AppError):
    """A job started from the admin API raised."""

    status = 500
    code = "JOB_FAILED"
    default_message = "The job failed"


def job_registry() -> dict[str, Callable[[], Any]]:
    """Jobs that can be run now: `app.extensions["jobs"]`, name → zero-argument callable."""
    return app_extensions().get("jobs", {})


def leader_status() -> dict[str, Any] | None:
    """What `app.extensions["leader_status"]` (a callable, when scale-out installs one) reports."""
    probe = app_extensions().get("leader_status")
    return probe() if callable(probe) else None


def job_status() -> list[dict[str, Any]]:
    """Every job that has run or can run: last start/finish, duration, status, error, counts, host."""
    with db.connection() as conn:
        runs = list_job_runs(conn)
    registry = job_registry()
    blank = {
        "last_started_at": None,
        "last_finished_at": None,
        "last_duration_ms": None,
        "last_status": None,
        "last_error": None,
        "run_count": 0,
        "error_count": 0,
        "host": None,
    }
    return [
        {**blank, "name": name, **runs.get(name, {}), "runnable": name in registry}
        for name in sorted(set(runs) | set(registry))
    ]


def run_job_now(name: str) -> dict[str, Any]:
    """Run a registered job in this request and time it; NotFound for an unknown name, JobFailed if it raises."""
    job = job_registry().get(name)
    if job is None:
        raise NotFound(f"no job named {name!r}")
    started = time.perf_counter()
    try:
        job()
    except Exception as exc:  # a job's own failure, reported to the admin who started it
        log.exception("job %s failed when run from the admin API", name)
        raise JobFailed(f"job {name!r} failed: {type(exc).__name__}: {exc}"[:500]) from exc
    return {"name": name, "status": "ok", "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
