"""The JSON shapes of scans: the scan object of the API and the Socket.IO events."""

from __future__ import annotations

from typing import Any

from controller.jobs.jobs import Job
from utils.timeutil import iso_ist

KIND = "scan"


def scan_json(job: Job) -> dict[str, Any]:
    """The scan object of GET /scans/<id>."""
    result = job.result
    return {
        "scan_id": job.job_id,
        "status": job.status,
        "progress_percent": round(job.progress_percent, 1),
        "message": job.message,
        "error": job.error,
        "current_symbol": job.current_item,
        "processed_symbols": job.processed,
        "total_symbols": job.total,
        "results_found": int(result.get("results_found", 0)),
        "results_stored": int(result.get("stored", 0)),
        "truncated": bool(result.get("truncated", False)),
        "created_at": iso_ist(job.created_at),
        "started_at": iso_ist(job.started_at),
        "finished_at": iso_ist(job.finished_at),
        "execution_time_s": job.execution_time_s,
        "clamped_range": result.get("clamped_range"),
        "request": job.params.get("request", {}),
    }


def progress_event(job_id: int, progress: dict[str, Any]) -> dict[str, Any]:
    """The scan_progress payload from a job's latest progress."""
    return {
        "scan_id": job_id,
        "status": "running",
        "progress_percent": progress.get("progress_percent", 0.0),
        "processed_symbols": progress.get("processed", 0),
        "total_symbols": progress.get("total", 0),
        "results_found": progress.get("result", {}).get("results_found", 0),
        "current_symbol": progress.get("current_item"),
    }


def done_event(job: Job) -> dict[str, Any]:
    """The scan_done payload of a scan in a terminal status."""
    return {
        "scan_id": job.job_id,
        "status": job.status,
        "results_found": int(job.result.get("results_found", 0)),
        "execution_time_s": job.execution_time_s,
        "message": job.message,
    }
