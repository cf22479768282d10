"""The scheduler-runs table: one row per job with its last run."""

from __future__ import annotations

from typing import Any

from controller.sql import execute, fetch_all

_RECORD = """
INSERT INTO scheduler_runs (job_name, last_started_at, last_finished_at, last_duration_ms, last_status,
    last_error, run_count, error_count, host)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE last_started_at = VALUES(last_started_at), last_finished_at = VALUES(last_finished_at),
    last_duration_ms = VALUES(last_duration_ms), last_status = VALUES(last_status),
    last_error = VALUES(last_error), run_count = run_count + VALUES(run_count),
    error_count = error_count + VALUES(error_count), host = VALUES(host)
"""


def record_run(
    conn: Any,
    job_name: str,
    started_at: Any,
    finished_at: Any,
    duration_ms: int | None,
    status: str,
    error: str | None,
    host: str,
) -> None:
    """Record one run of a job (status ok, error or skipped); counters accumulate."""
    ran = 1 if status in ("ok", "error") else 0
    failed = 1 if status == "error" else 0
    execute(
        conn,
        _RECORD,
        (
            job_name,
            started_at,
            finished_at,
            duration_ms,
            status,
            (error or None) and error[:1000],
            ran,
            failed,
            host[:128],
        ),
    )


def list_runs(conn: Any) -> list[dict[str, Any]]:
    """Every job's row, by name."""
    return fetch_all(conn, "SELECT * FROM scheduler_runs ORDER BY job_name")
