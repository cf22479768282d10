"""The `jobs` table: user-started background jobs of any kind (scans, crawler runs), claimed by any process.

Status moves queued → running → completed | failed | cancelled. A process claims the oldest queued job of the
kinds it runs with `SELECT … FOR UPDATE SKIP LOCKED` (two claimers never get the same row), keeps `heartbeat_at`
fresh while it runs, and finishes it only while it still holds it (`claimed_by`); a running job whose heartbeat
went stale is failed by whichever process notices (`reap_stale`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.sql import execute, fetch_all, fetch_one, fetch_value

ACTIVE = ("queued", "running")
TERMINAL = ("completed", "failed", "cancelled")
_COLUMNS = (
    "job_id, kind, owner_id, params, status, progress_percent, processed, total, current_item, message, result, "
    "error, cancel_requested, claimed_by, heartbeat_at, created_at, started_at, finished_at"
)


@dataclass(frozen=True)
class Job:
    """One row of `jobs`; params and result are decoded JSON."""

    job_id: int
    kind: str
    owner_id: int | None
    params: dict[str, Any]
    status: str
    progress_percent: float
    processed: int
    total: int
    current_item: str | None
    message: str | None
    result: dict[str, Any]
    error: str | None
    cancel_requested: bool
    claimed_by: str | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        """Decode a row."""
        return cls(
            **{
                **row,
                "params": json.loads(row["params"]),
                "result": json.loads(row["result"]) if row["result"] else {},
                "progress_percent": float(row["progress_percent"]),
                "cancel_requested": bool(row["cancel_requested"]),
            }
        )

    @property
    def execution_time_s(self) -> float | None:
        """Seconds from start to finish (to now while running is the caller's business)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


def lock_owner(conn: Any, owner_id: int) -> None:
    """Lock the owner's user row: serialises per-user limit checks and enqueues (inside a transaction)."""
    fetch_value(conn, "SELECT user_id FROM users WHERE user_id = %s FOR UPDATE", (owner_id,))


def count_active(conn: Any, owner_id: int, kind: str) -> int:
    """How many of the owner's jobs of `kind` are queued or running."""
    return int(
        fetch_value(
            conn,
            "SELECT COUNT(*) FROM jobs WHERE owner_id = %s AND kind = %s AND status IN ('queued', 'running')",
            (owner_id, kind),
        )
    )


def enqueue(conn: Any, kind: str, owner_id: int | None, params: dict[str, Any], result: dict | None = None) -> int:
    """Insert a queued job; its id."""
    return execute(
        conn,
        "INSERT INTO jobs (kind, owner_id, params, result) VALUES (%s, %s, %s, %s)",
        (kind, owner_id, json.dumps(params), json.dumps(result or {})),
    )[1]


def claim(conn: Any, kinds: tuple[str, ...], claimed_by: str) -> Job | None:
    """Inside a transaction: take the oldest queued job of `kinds` that no other process is claiming."""
    marks = ", ".join(["%s"] * len(kinds))
    job_id = fetch_value(
        conn,
        f"SELECT job_id FROM jobs WHERE status = 'queued' AND kind IN ({marks}) "
        "ORDER BY job_id LIMIT 1 FOR UPDATE SKIP LOCKED",
        kinds,
    )
    if job_id is None:
        return None
    execute(
        conn,
        "UPDATE jobs SET status = 'running', claimed_by = %s, started_at = NOW(3), heartbeat_at = NOW(3), "
        "message = 'started' WHERE job_id = %s",
        (claimed_by, job_id),
    )
    return get(conn, job_id)


def beat(
    conn: Any,
    job_id: int,
    claimed_by: str,
    progress: dict[str, Any] | None = None,
) -> bool | None:
    """Refresh the heartbeat (and progress columns); whether a cancel was asked, None when the job is no longer ours."""
    sets, params = ["heartbeat_at = NOW(3)"], []
    for column in ("progress_percent", "processed", "total", "current_item", "message"):
        if progress and column in progress:
            sets.append(f"{column} = %s")
            params.append(progress[column])
    if progress and "result" in progress:
        sets.append("result = %s")
        params.append(json.dumps(progress["result"]))
    execute(
        conn,
        f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = %s AND claimed_by = %s AND status = 'running'",
        (*params, job_id, claimed_by),
    )
    row = fetch_one(conn, "SELECT status, claimed_by, cancel_requested FROM jobs WHERE job_id = %s", (job_id,))
    if row is None or row["status"] != "running" or row["claimed_by"] != claimed_by:
        return None
    return bool(row["cancel_requested"])


def finish(
    conn: Any,
    job_id: int,
    claimed_by: str,
    status: str,
    message: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress_percent: float | None = None,
) -> bool:
    """Move a running job we hold to a terminal status; False when it is no longer ours (reaped meanwhile)."""
    return (
        execute(
            conn,
            "UPDATE jobs SET status = %s, message = %s, result = COALESCE(%s, result), error = %s, "
            "progress_percent = COALESCE(%s, progress_percent), finished_at = NOW(3) "
            "WHERE job_id = %s AND claimed_by = %s AND status = 'running'",
            (
                status,
                message[:255],
                None if result is None else json.dumps(result),
                None if error is None else error[:500],
                progress_percent,
                job_id,
                claimed_by,
            ),
        )[0]
        == 1
    )


def cancel_queued(conn: Any, job_id: int) -> bool:
    """Cancel a job nobody has claimed yet; False when it is no longer queued."""
    return (
        execute(
            conn,
            "UPDATE jobs SET status = 'cancelled', message = 'cancelled before it started', finished_at = NOW(3) "
            "WHERE job_id = %s AND status = 'queued'",
            (job_id,),
        )[0]
        == 1
    )


def request_cancel(conn: Any, job_id: int) -> bool:
    """Ask the process running a job to stop it; False when it is not running."""
    return (
        execute(
            conn,
            "UPDATE jobs SET cancel_requested = 1, message = 'cancelling' WHERE job_id = %s AND status = 'running'",
            (job_id,),
        )[0]
        == 1
    )


def reap_stale(conn: Any, stale_after_s: float, reason: str) -> list[Job]:
    """Inside a transaction: fail running jobs whose heartbeat is older than `stale_after_s`; the jobs failed."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM jobs WHERE status = 'running' "
        "AND heartbeat_at < NOW(3) - INTERVAL %s MICROSECOND FOR UPDATE SKIP LOCKED",
        (int(stale_after_s * 1_000_000),),
    )
    if not rows:
        return []
    ids = [row["job_id"] for row in rows]
    marks = ", ".join(["%s"] * len(ids))
    execute(
        conn,
        f"UPDATE jobs SET status = 'failed', error = %s, message = %s, finished_at = NOW(3) "
        f"WHERE job_id IN ({marks}) AND status = 'running'",
        (reason[:500], reason[:255], *ids),
    )
    return [Job.from_row({**row, "status": "failed", "error": reason, "message": reason}) for row in rows]


def get(conn: Any, job_id: int, owner_id: int | None = None, kind: str | None = None) -> Job | None:
    """One job (only the owner's / only of `kind` when given)."""
    sql, params = f"SELECT {_COLUMNS} FROM jobs WHERE job_id = %s", [job_id]
    if owner_id is not None:
        sql += " AND owner_id = %s"
        params.append(owner_id)
    if kind is not None:
        sql += " AND kind = %s"
        params.append(kind)
    row = fetch_one(conn, sql, params)
    return Job.from_row(row) if row else None


def list_for_owner(conn: Any, owner_id: int, kind: str, limit: int, offset: int = 0) -> list[Job]:
    """The owner's jobs of `kind`, newest first."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM jobs WHERE owner_id = %s AND kind = %s ORDER BY job_id DESC LIMIT %s OFFSET %s",
        (owner_id, kind, limit, offset),
    )
    return [Job.from_row(row) for row in rows]


def delete_finished(conn: Any, job_id: int) -> bool:
    """Delete a job in a terminal status (its results go with it); False when it is active."""
    return (
        execute(
            conn, "DELETE FROM jobs WHERE job_id = %s AND status IN ('completed', 'failed', 'cancelled')", (job_id,)
        )[0]
        == 1
    )


def create_ticket(conn: Any, ticket_hash: str, job_id: int, user_id: int, ttl_s: int) -> None:
    """Store a single-use events ticket (its hash) valid for `ttl_s` seconds."""
    execute(conn, "DELETE FROM job_event_tickets WHERE expires_at < NOW(3)")
    execute(
        conn,
        "INSERT INTO job_event_tickets (ticket_hash, job_id, user_id, expires_at) "
        "VALUES (%s, %s, %s, NOW(3) + INTERVAL %s SECOND)",
        (ticket_hash, job_id, user_id, ttl_s),
    )


def use_ticket(conn: Any, ticket_hash: str, job_id: int) -> int | None:
    """Spend a ticket for `job_id`: its user id, or None when it is unknown, expired, spent or for another job."""
    spent = execute(
        conn,
        "UPDATE job_event_tickets SET used_at = NOW(3) "
        "WHERE ticket_hash = %s AND job_id = %s AND used_at IS NULL AND expires_at >= NOW(3)",
        (ticket_hash, job_id),
    )[0]
    if spent != 1:
        return None
    return int(fetch_value(conn, "SELECT user_id FROM job_event_tickets WHERE ticket_hash = %s", (ticket_hash,)))


def stop_requested(conn: Any, job_id: int) -> bool:
    """True when the job was asked to stop or is no longer running (cancelled, or failed by another process)."""
    row = fetch_one(conn, "SELECT status, cancel_requested FROM jobs WHERE job_id = %s", (job_id,))
    return row is None or row["status"] != "running" or bool(row["cancel_requested"])
