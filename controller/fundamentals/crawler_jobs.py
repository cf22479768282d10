"""Crawler jobs (`crawler_jobs`) and their runs: each run is a row of `jobs` (kind 'crawl') linked in
`crawler_runs`. The leader enqueues a scheduled run by moving the job's `next_run_at` on with a conditional UPDATE,
so a run is enqueued once per firing however many processes look."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mysql.connector import errors as mysql_errors

from controller.jobs import jobs
from controller.jobs.jobs import Job
from controller.sql import execute, fetch_all, fetch_one, fetch_value
from utils.errors import Conflict
from utils.timeutil import as_utc, to_db

CRAWL_KIND = "crawl"
_DUPLICATE_KEY = 1062
_COLUMNS = (
    "crawler_job_id, name, universe_all, symbols, source, metadata, schedule, enabled, next_run_at, created_by, "
    "created_at, updated_at"
)
EDITABLE = ("name", "universe_all", "symbols", "source", "metadata", "schedule", "enabled", "next_run_at")


@dataclass(frozen=True)
class CrawlerJob:
    """One crawler job (symbols and metadata decoded; times aware UTC)."""

    crawler_job_id: int
    name: str
    universe_all: bool
    symbols: list[str]
    source: str
    metadata: dict[str, str]
    schedule: str | None
    enabled: bool
    next_run_at: datetime | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CrawlerJob:
        """Decode a row."""
        return cls(
            **{
                **row,
                "universe_all": bool(row["universe_all"]),
                "symbols": json.loads(row["symbols"]),
                "metadata": json.loads(row["metadata"]),
                "enabled": bool(row["enabled"]),
                "next_run_at": as_utc(row["next_run_at"]) if row["next_run_at"] else None,
                "created_at": as_utc(row["created_at"]),
                "updated_at": as_utc(row["updated_at"]),
            }
        )


def _encoded(column: str, value: Any) -> Any:
    if column in ("symbols", "metadata"):
        return json.dumps(value)
    if column == "next_run_at":
        return None if value is None else to_db(value)
    return value


def _conflict_on_duplicate(exc: mysql_errors.IntegrityError, name: Any) -> Conflict:
    if exc.errno != _DUPLICATE_KEY:
        raise exc
    return Conflict(f"a crawler job named {name!r} exists", details={"name": name})


def create(conn: Any, values: dict[str, Any], created_by: int | None) -> int:
    """Insert a crawler job (`values` holds every EDITABLE column); its id. Conflict for a duplicate name."""
    columns = [*EDITABLE, "created_by"]
    params = [_encoded(c, values[c]) for c in EDITABLE] + [created_by]
    try:
        return execute(
            conn,
            f"INSERT INTO crawler_jobs ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            params,
        )[1]
    except mysql_errors.IntegrityError as exc:
        raise _conflict_on_duplicate(exc, values["name"]) from None


def update(conn: Any, crawler_job_id: int, changes: dict[str, Any]) -> None:
    """Change some EDITABLE columns of a job. Conflict for a duplicate name."""
    sets = [f"{column} = %s" for column in changes if column in EDITABLE]
    params = [_encoded(c, v) for c, v in changes.items() if c in EDITABLE]
    try:
        execute(conn, f"UPDATE crawler_jobs SET {', '.join(sets)} WHERE crawler_job_id = %s", (*params, crawler_job_id))
    except mysql_errors.IntegrityError as exc:
        raise _conflict_on_duplicate(exc, changes.get("name")) from None


def get(conn: Any, crawler_job_id: int, lock: bool = False) -> CrawlerJob | None:
    """One crawler job (`lock`: FOR UPDATE, inside a transaction)."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM crawler_jobs WHERE crawler_job_id = %s" + (" FOR UPDATE" if lock else ""),
        (crawler_job_id,),
    )
    return CrawlerJob.from_row(row) if row else None


def list_all(conn: Any) -> list[CrawlerJob]:
    """Every crawler job, by name."""
    return [CrawlerJob.from_row(row) for row in fetch_all(conn, f"SELECT {_COLUMNS} FROM crawler_jobs ORDER BY name")]


def delete(conn: Any, crawler_job_id: int) -> bool:
    """Delete a job and its finished runs (active runs are left to end; their links go); False when none."""
    execute(
        conn,
        "DELETE j FROM jobs j JOIN crawler_runs r ON r.job_id = j.job_id "
        "WHERE r.crawler_job_id = %s AND j.status IN ('completed', 'failed', 'cancelled')",
        (crawler_job_id,),
    )
    return execute(conn, "DELETE FROM crawler_jobs WHERE crawler_job_id = %s", (crawler_job_id,))[0] == 1


def enqueue_run(conn: Any, crawler_job_id: int, params: dict[str, Any], owner_id: int | None) -> int:
    """Queue a run of a job (a `jobs` row of kind 'crawl') and link it; the run's job id."""
    job_id = jobs.enqueue(conn, CRAWL_KIND, owner_id, params, {"updated": 0, "failed": 0})
    execute(conn, "INSERT INTO crawler_runs (job_id, crawler_job_id) VALUES (%s, %s)", (job_id, crawler_job_id))
    return job_id


def active_run(conn: Any, crawler_job_id: int) -> int | None:
    """The id of the job's queued or running run, if it has one."""
    return fetch_value(
        conn,
        "SELECT j.job_id FROM crawler_runs r JOIN jobs j ON j.job_id = r.job_id "
        "WHERE r.crawler_job_id = %s AND j.status IN ('queued', 'running') ORDER BY j.job_id LIMIT 1",
        (crawler_job_id,),
    )


def runs(conn: Any, crawler_job_id: int, limit: int, offset: int = 0) -> list[Job]:
    """The job's runs, newest first."""
    ids = fetch_all(
        conn,
        "SELECT job_id FROM crawler_runs WHERE crawler_job_id = %s ORDER BY job_id DESC LIMIT %s OFFSET %s",
        (crawler_job_id, limit, offset),
    )
    return [job for row in ids if (job := jobs.get(conn, row["job_id"], kind=CRAWL_KIND)) is not None]


def last_runs(conn: Any) -> dict[int, int]:
    """{crawler job id: the id of its newest run}."""
    rows = fetch_all(conn, "SELECT crawler_job_id, MAX(job_id) AS job_id FROM crawler_runs GROUP BY crawler_job_id")
    return {row["crawler_job_id"]: row["job_id"] for row in rows}


def due(conn: Any, now: datetime) -> list[CrawlerJob]:
    """Enabled scheduled jobs whose next firing has come."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM crawler_jobs WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= %s "
        "ORDER BY next_run_at",
        (to_db(now),),
    )
    return [CrawlerJob.from_row(row) for row in rows]


def unplanned(conn: Any) -> list[CrawlerJob]:
    """Enabled jobs with a schedule but no next firing yet (created by a migration or with the database)."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM crawler_jobs WHERE enabled = 1 AND schedule IS NOT NULL AND next_run_at IS NULL",
    )
    return [CrawlerJob.from_row(row) for row in rows]


def advance(conn: Any, crawler_job_id: int, seen: datetime | None, next_run_at: datetime | None) -> bool:
    """Move the job's next firing from `seen` (what the caller read) to `next_run_at`; False when another process
    moved it first (or the job changed meanwhile)."""
    if seen is None:
        sql, params = "next_run_at IS NULL", ()
    else:
        sql, params = "next_run_at = %s", (to_db(seen),)
    return (
        execute(
            conn,
            f"UPDATE crawler_jobs SET next_run_at = %s WHERE crawler_job_id = %s AND {sql}",
            (None if next_run_at is None else to_db(next_run_at), crawler_job_id, *params),
        )[0]
        == 1
    )
