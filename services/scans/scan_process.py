"""The scan process: a child of a web process that computes scans at idle priority, away from the event loop.

`python -m services.scans.scan_process` reads one job a line on stdin ({job_id, spec, max_rows, timeout_s}) and
answers with JSON lines on stdout: `progress` now and then, and one `done` per job. It keeps the daily panel (and
its indicators) between jobs, refreshing it from the database before each; it stores a job's result rows itself,
so they never pass through the web process. It stops a job when the job's row says cancel (checked a few times a
second), at the timeout, or when its parent is gone; and it exits when stdin closes.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
import tempfile
import time
from typing import Any

import numpy as np

from backend.db import connect
from backend.settings import DatabaseConfig
from controller.jobs import jobs
from controller.scans import results
from services.scans import engine, panel_loader
from services.scans.fields import DECIMALS, FIELD_NAMES
from services.scans.panel import Panel

log = logging.getLogger("scan_process")
DATABASE_URL_ENV = "SCAN_PROCESS_DATABASE_URL"
CANCEL_CHECK_S = 0.25
# Daily candles change at most every EOD_INTERVAL_S (300 s by default) while the market is open, and checking costs
# the database a scan of the candle index (~0.4 s of its CPU on a million candles): scans within this many seconds
# of the last check use the panel as it is.
PANEL_RECHECK_S = 15.0
PROGRESS_EVERY_S = 0.1
_NAN = re.compile(r"\bnan\b")


class ScanTimeout(Exception):
    """The job ran past its timeout."""


def lower_priority() -> None:
    """Run at the lowest CPU priority: nice 19, and Linux's idle scheduling class where allowed."""
    with contextlib.suppress(OSError):
        os.nice(19)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def send(message: dict[str, Any]) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class ScanProcess:
    """Holds the connection and the warm panel; runs one job at a time."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.workdir = tempfile.mkdtemp(prefix="scan-")
        self.conn: Any = None
        self.panel: Panel | None = None
        self.checked_at = 0.0  # monotonic time of the panel's last freshness check
        self.parent = os.getppid()

    def connection(self) -> Any:
        """The process's connection (reopened after a failure)."""
        if self.conn is None or not self.conn.is_connected():
            self.conn = connect(self.config, allow_local_infile_in_path=self.workdir)
        return self.conn

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job; the `done` message."""
        job_id = job["job_id"]
        started = time.monotonic()
        deadline = started + float(job["timeout_s"])
        checked = [0.0]
        last_sent = [0.0]

        def cancelled() -> bool:
            now = time.monotonic()
            if now > deadline:
                raise ScanTimeout
            if os.getppid() != self.parent:
                return True
            if now - checked[0] >= CANCEL_CHECK_S:
                checked[0] = now
                return jobs.stop_requested(self.connection(), job_id)
            return False

        def progress(phase: str, low: float, high: float, done: int, total: int, symbol: str, found: int) -> None:
            now = time.monotonic()
            if now - last_sent[0] < PROGRESS_EVERY_S and done < total:
                return
            last_sent[0] = now
            percent = low + (high - low) * (done / total if total else 1.0)
            send(
                {
                    "event": "progress",
                    "job_id": job_id,
                    "message": phase,
                    "progress_percent": round(percent, 1),
                    "processed": done,
                    "total": total,
                    "current_item": symbol,
                    "results_found": found,
                }
            )

        try:
            spec = engine.spec_from_json(job["spec"])
            conn = self.connection()
            cold = self.panel is None
            scan_low = 40.0 if cold else 0.0
            if cold or time.monotonic() - self.checked_at >= PANEL_RECHECK_S:
                self.panel = panel_loader.refresh(
                    conn,
                    self.panel,
                    lambda done, total, symbol: progress(
                        "loading daily candles", 0.0, scan_low, done, total, symbol, 0
                    ),
                    cancelled,
                )
                self.checked_at = time.monotonic()
            self.panel.indicators()
            outcome = engine.run(
                self.panel,
                spec,
                int(job["max_rows"]),
                lambda done, total, symbol, found: progress("scanning", scan_low, 99.0, done, total, symbol, found),
                cancelled,
            )
            self.store(conn, job_id, outcome)
            message = f"{outcome.results_found} matching rows" + (
                f" (the first {outcome.rows.size} kept)" if outcome.truncated else ""
            )
            return {
                "event": "done",
                "job_id": job_id,
                "status": "completed",
                "message": message,
                "results_found": outcome.results_found,
                "stored": int(outcome.rows.size),
                "truncated": outcome.truncated,
                "processed": outcome.processed,
                "cold": cold,
            }
        except engine.ScanCancelled:
            return {"event": "done", "job_id": job_id, "status": "cancelled", "message": "cancelled"}
        except ScanTimeout:
            limit = job["timeout_s"]
            return {"event": "done", "job_id": job_id, "status": "failed", "message": f"timed out after {limit} s"}
        except Exception as exc:  # the job fails; the process lives on for the next one
            log.exception("scan %s failed", job_id)
            self.conn = None
            return {
                "event": "done",
                "job_id": job_id,
                "status": "failed",
                "message": "failed: internal error",
                "error": f"{type(exc).__name__}: {exc}",
            }

    def store(self, conn: Any, job_id: int, outcome: engine.ScanOutcome) -> None:
        """Write the result rows, rounded as served, with LOAD DATA LOCAL INFILE."""
        if outcome.rows.size == 0:
            return
        decimals = [DECIMALS[name] for name in FIELD_NAMES]
        values = np.column_stack([np.round(outcome.values[:, k], d) for k, d in enumerate(decimals)])
        stock_ids = np.array([self.panel.instruments[r].stock_id for r in outcome.rows.tolist()])
        matrix = np.column_stack((np.arange(1, outcome.rows.size + 1), stock_ids, outcome.days, values))
        out = io.StringIO()
        np.savetxt(out, matrix, fmt=["%d", "%d", "%d", *[f"%.{d}f" for d in decimals]], delimiter="\t")
        tsv = _NAN.sub(r"\\N", out.getvalue())

        def rows() -> list[tuple]:
            epoch = np.datetime64("1970-01-01")
            return [
                (
                    int(n),
                    int(s),
                    (epoch + np.timedelta64(int(d), "D")).item(),
                    *[None if np.isnan(x) else float(x) for x in v],
                )
                for n, s, d, v in zip(matrix[:, 0], matrix[:, 1], matrix[:, 2], values, strict=True)
            ]

        results.load(conn, job_id, FIELD_NAMES, tsv, self.workdir, rows)


def main() -> int:
    """Serve jobs from stdin until it closes."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    lower_priority()
    worker = ScanProcess(DatabaseConfig.from_url(os.environ[DATABASE_URL_ENV]))
    send({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        if line.strip():
            send(worker.run(json.loads(line)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
