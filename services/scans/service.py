"""Scans as the API sees them: submit (with the per-user limit), read, cancel or delete, results, event tickets."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

from backend import db
from backend.extensions import app_extensions, socketio
from controller.jobs import jobs
from controller.jobs.jobs import Job
from controller.scans import results
from services.realtime.websocket_manager import user_room
from services.scans import universe, views
from services.scans.engine import spec_to_json
from services.scans.fields import DECIMALS, FIELD_NAMES
from services.scans.requests import Limits, build_spec
from services.scans.views import KIND
from utils.errors import Conflict, NotFound, RateLimited, ValidationError, field_error

TICKET_TTL_S = 60
SSE_POLL_S = 0.25
SORTABLE = (*FIELD_NAMES, *results.RESULT_EXTRA_SORTS)


def _settings() -> Any:
    return app_extensions()["settings"]


def submit(user_id: int, request: dict[str, Any]) -> dict[str, Any]:
    """Validate and queue a scan; RateLimited when the user already has SCAN_MAX_ACTIVE_PER_USER active."""
    settings = _settings()
    spec, clamped = build_spec(
        request, universe.current(), Limits(settings.scan_max_range_days, settings.scan_max_conditions)
    )
    params = {"request": request, "spec": spec_to_json(spec)}
    with db.transaction() as conn:
        jobs.lock_owner(conn, user_id)
        active = jobs.count_active(conn, user_id, KIND)
        if active >= settings.scan_max_active_per_user:
            raise RateLimited(
                f"you have {active} scans queued or running (at most {settings.scan_max_active_per_user})",
                details={"limit": settings.scan_max_active_per_user, "active": active},
            )
        job_id = jobs.enqueue(conn, KIND, user_id, params, {"clamped_range": clamped})
    runner = app_extensions().get("job_runner")
    if runner is not None:
        runner.wake()  # this process may claim it at once; any other polls within JOB_POLL_INTERVAL_S
    return {"scan_id": job_id, "status": "queued", "clamped_range": clamped}


def get(user_id: int, scan_id: int) -> Job:
    """The user's scan; NotFound for a missing one or another user's."""
    with db.connection() as conn:
        job = jobs.get(conn, scan_id, user_id, KIND)
    if job is None:
        raise NotFound(f"no scan {scan_id}")
    return job


def list_scans(user_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    """The user's scans, newest first."""
    with db.connection() as conn:
        return [views.scan_json(job) for job in jobs.list_for_owner(conn, user_id, KIND, limit, offset)]


def cancel_or_delete(user_id: int, scan_id: int) -> str:
    """Cancel an active scan ("cancelled" when it was queued, "cancelling" when running) or delete a finished one
    ("deleted"); Conflict when an active scan finished before the cancel reached it."""
    job = get(user_id, scan_id)
    with db.connection() as conn:
        if job.status not in jobs.ACTIVE:
            if jobs.delete_finished(conn, scan_id):
                return "deleted"
            raise NotFound(f"no scan {scan_id}")  # deleted meanwhile
        if jobs.cancel_queued(conn, scan_id):
            socketio.emit("scan_done", views.done_event(jobs.get(conn, scan_id)), to=user_room(user_id))
            return "cancelled"
        if jobs.request_cancel(conn, scan_id):
            return "cancelling"
    raise Conflict("the scan finished before it could be cancelled", details={"scan_id": scan_id})


def _sort(sort: str) -> tuple[str, bool]:
    name, _, direction = sort.partition(":")
    direction = direction or ("asc" if name in ("symbol",) else "desc")
    if name not in SORTABLE or direction not in ("asc", "desc"):
        raise ValidationError(
            f"unknown sort {sort!r}",
            details={"allowed": list(SORTABLE), "directions": ["asc", "desc"]},
            fields=[field_error("sort", "FIELD or FIELD:asc|desc with a field of the scan")],
        )
    return name, direction == "desc"


def result_rows(user_id: int, scan_id: int, sort: str, limit: int, offset: int) -> tuple[Job, int, list[dict]]:
    """(the scan, rows stored, one page of rows) sorted by `sort` ("field[:asc|desc]")."""
    name, descending = _sort(sort)
    job = get(user_id, scan_id)
    with db.connection() as conn:
        total = results.count(conn, scan_id)
        rows = results.page(conn, scan_id, FIELD_NAMES, name, descending, limit, offset)
    return job, total, [_row_json(row) for row in rows]


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {"symbol": row["symbol"], "company_name": row["company_name"], "sector": row["sector"]}
    out["date"] = row["date"].isoformat()
    for name in FIELD_NAMES:
        value = row[name]
        out[name] = None if value is None else (int(value) if DECIMALS[name] == 0 else round(float(value), 4))
    return out


def results_table(user_id: int, scan_id: int, sort: str) -> tuple[list[str], list[list[Any]]]:
    """Every stored row of the scan as a header and rows (for the CSV download)."""
    _, _, rows = result_rows(user_id, scan_id, sort, _settings().scan_max_results, 0)
    header = ["symbol", "company_name", "sector", "date", *FIELD_NAMES]
    return header, [[row[h] for h in header] for row in rows]


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def events_ticket(user_id: int, scan_id: int) -> dict[str, Any]:
    """A single-use ticket, valid TICKET_TTL_S, for GET /scans/<id>/events?ticket=…"""
    get(user_id, scan_id)
    ticket = secrets.token_urlsafe(32)
    with db.connection() as conn:
        jobs.create_ticket(conn, _hash(ticket), scan_id, user_id, TICKET_TTL_S)
    return {"ticket": ticket, "expires_in_s": TICKET_TTL_S}


def spend_ticket(scan_id: int, ticket: str) -> int:
    """The user a ticket was issued to; NotFound when it is unknown, spent, expired or for another scan."""
    with db.connection() as conn:
        user_id = jobs.use_ticket(conn, _hash(ticket), scan_id)
    if user_id is None:
        raise NotFound("no such ticket (tickets are single-use and valid for 60 s)")
    return user_id


def event_stream(app: Any, user_id: int, scan_id: int) -> Iterator[str]:
    """Server-Sent Events of a scan: `scan_progress` when it moves, then one `scan_done`, then the end."""
    last = None
    while True:
        with app.app_context(), app.extensions["db"].connection() as conn:
            job = jobs.get(conn, scan_id, user_id, KIND)
        if job is None:
            return
        if job.status in jobs.TERMINAL:
            yield _sse("scan_done", views.done_event(job))
            return
        progress = views.progress_event(
            job.job_id,
            {
                "progress_percent": job.progress_percent,
                "processed": job.processed,
                "total": job.total,
                "current_item": job.current_item,
                "result": job.result,
            },
        )
        progress["status"] = job.status
        if progress != last:
            last = progress
            yield _sse("scan_progress", progress)
        socketio.sleep(SSE_POLL_S)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
