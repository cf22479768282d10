"""Scheduler job status as recorded in `scheduler_runs` (one row per job, written by the scheduler)."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all
from utils.timeutil import iso_ist

_LIST = """
SELECT job_name, last_started_at, last_finished_at, last_duration_ms, last_status, last_error,
    run_count, error_count, host
FROM scheduler_runs ORDER BY job_name
"""


def list_job_runs(conn: Any) -> dict[str, dict[str, Any]]:
    """Every recorded job's last run, keyed by job name, shaped for JSON."""
    return {
        row["job_name"]: {
            "name": row["job_name"],
            "last_started_at": iso_ist(row["last_started_at"]),
            "last_finished_at": iso_ist(row["last_finished_at"]),
            "last_duration_ms": row["last_duration_ms"],
            "last_status": row["last_status"],
            "last_error": row["last_error"],
            "run_count": int(row["run_count"]),
            "error_count": int(row["error_count"]),
            "host": row["host"],
        }
        for row in fetch_all(conn, _LIST)
    }
