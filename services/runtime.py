"""`start_services(app)`: the background half of the app, started by entry points once per process.

Tick path (DESIGN.md §4): provider -> stock/index jobs -> TickBus.publish -> live-price cache (wired by
create_app), Socket.IO fan-out, and, in the writer process, the tick writer. The writer role (polling
the provider and persisting quotes and candles) is set up in `Realtime._start_writer` only, so leader
election can gate exactly that. Tests start services only when they test them, and stop them after.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from flask import Flask

from backend.settings import Settings
from services import app_jobs, jobs, market_clock, order_matcher
from services.fanout import Fanout
from services.market_data.universe import load_universe
from services.scheduler import Scheduler
from services.tick_writer import TickWriter
from utils.timeutil import now_utc

log = logging.getLogger(__name__)
_lock = threading.Lock()
_running: Realtime | None = None
_UNHEALTHY_AFTER_ERRORS = 3


class Realtime:
    """The running services of one app: fan-out, writer (if this process is the writer) and scheduler."""

    def __init__(self, app: Flask, writer: bool = True) -> None:
        self.app = app
        self.settings: Settings = app.extensions["settings"]
        self.bus = app.extensions["tick_bus"]
        self.fanout = Fanout(app, self.settings.fanout_interval_ms / 1000,
                             self.settings.prices_batch_interval_ms / 1000)
        self.writer = TickWriter(load_universe) if writer else None
        self.matcher = order_matcher.tick_subscriber(app)
        job_list = jobs.broadcast_jobs(self.settings) + app_jobs.every_process_jobs(self.settings)
        if self.writer is not None:
            job_list += jobs.writer_jobs(self.settings, self.writer) + app_jobs.writer_process_jobs(self.settings)
        self.scheduler = Scheduler(app, job_list)
        self.started_monotonic = 0.0
        self.gc_threshold = gc.get_threshold()

    def start(self) -> None:
        """Subscribe to the bus, start the loops, expose jobs and readiness checks."""
        self.started_monotonic = time.monotonic()
        with self.app.app_context():  # load the exchange calendar now, not in the first request
            market_clock.current_status()
        self.bus.subscribe(self.fanout.on_batch, "fanout")
        self.bus.subscribe(self.matcher, "order_matcher")
        if self.writer is not None:
            self._start_writer()
        self.fanout.start()
        self.scheduler.start()
        self.app.extensions["realtime"] = self
        self.app.extensions["jobs"] = {name: self._runner(name) for name in self.scheduler.jobs}
        checks = self.app.extensions.setdefault("readiness_checks", {})
        checks["feed"] = self.feed_check
        checks["scheduler"] = self.scheduler_check
        log.info("realtime services started (%s provider, writer=%s)", self.settings.market_data_provider,
                 self.writer is not None)

    def _start_writer(self) -> None:
        """The writer role: persist every tick (the polling jobs were added to the scheduler with it)."""
        self.bus.subscribe(self.writer.on_batch, "tick_writer")

    def stop(self) -> None:
        """Stop the loops and unsubscribe; flush what the writer still holds."""
        self.scheduler.stop()
        self.fanout.stop()
        self.bus.unsubscribe(self.fanout.on_batch)
        self.bus.unsubscribe(self.matcher)
        if self.writer is not None:
            self.bus.unsubscribe(self.writer.on_batch)
            with self.app.app_context():
                self.writer.flush(final=True)

    def _runner(self, name: str):
        return lambda: self.scheduler.run_now(name)

    def feed_check(self) -> dict[str, Any]:
        """Ready unless the market is open and the newest live quote is older than FEED_STALE_AFTER_S."""
        newest = self.app.extensions["live_prices"]["stocks"].newest_as_of()
        age = (now_utc() - newest).total_seconds() if newest else None
        limit = self.settings.feed_stale_after_s
        starting = time.monotonic() - self.started_monotonic < limit
        is_open = market_clock.current_status().is_market_open
        ok = not is_open or starting or (age is not None and age <= limit)
        return {"ok": ok, "market_open": is_open, "age_s": None if age is None else round(age, 1)}

    def scheduler_check(self) -> dict[str, Any]:
        """Ready while the scheduler runs and no job has failed several times in a row."""
        failing = [n for n, job in self.scheduler.jobs.items() if job.consecutive_errors >= _UNHEALTHY_AFTER_ERRORS]
        return {"ok": self.scheduler.running and not failing, "failing": failing, "jobs": self.scheduler.states()}


def start_services(app: Flask, writer: bool = True) -> bool:
    """Start the realtime services for `app` unless this process already runs them; True when started."""
    global _running
    with _lock:
        if _running is not None:
            return False
        _running = Realtime(app, writer=writer)
    _running.start()
    # Full collections paused the event loop 130-380 ms every few seconds with 1,000 clients and
    # 2,000 symbols ticking (each tick allocates tens of thousands of short-lived objects). The
    # start-up heap never becomes garbage: freeze it; and collect the young generation every 10,000
    # allocations instead of 700, so full collections come about 14 times less often.
    _running.gc_threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    return True


def stop_services() -> None:
    """Stop this process's services (tests, shutdown); start_services may be called again afterwards."""
    global _running
    with _lock:
        running, _running = _running, None
    if running is not None:
        running.stop()
        gc.set_threshold(*running.gc_threshold)
        gc.unfreeze()
