"""`start_services(app)`: the background half of the app, started by entry points once per process.

Tick path (docs/ARCHITECTURE.md): provider -> stock/index jobs -> TickBus.publish -> in every process the live-price
cache (wired by create_app), the Socket.IO fan-out, the order matcher and the alert engine; in the leader also the
tick writer.
The writer role (polling the provider, persisting quotes and candles, and the other writers: news, trading
jobs, token purge) runs only while this process leads (services/platform/leader.py elects one process per database):
`_start_writer` on election, `_stop_writer` when it steps down. With Upstox the writer role also holds the
feed connection, closed first when the role stops (services/runtime/feed_streaming.py). Tests start services
only when they test them, and stop them after. Entry points also call `register_shutdown(app)`: the services,
the app's Socket.IO streams and its pool then stop in the process's shutdown sequence
(services/runtime/shutdown.py).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from functools import partial
from typing import Any

from flask import Flask

from backend.extensions import socketio
from backend.settings import Settings
from services import market_data
from services.alerts import jobs as alert_jobs
from services.alerts.engine import AlertEngine
from services.fundamentals.runs import KIND as CRAWL_KIND
from services.fundamentals.runs import CrawlHandler
from services.jobs.runner import JobRunner
from services.market import market_clock
from services.market_data.universe import load_universe
from services.platform.leader import Leadership
from services.platform.scheduler import Scheduler
from services.realtime import feed_jobs, payloads
from services.realtime.fanout import Fanout
from services.realtime.tick_writer import TickWriter
from services.runtime import app_jobs, shutdown
from services.runtime.feed_streaming import FeedStreaming
from services.scans.executor import ScanExecutor
from services.scans.views import KIND as SCAN_KIND
from services.trading import matcher
from utils.errors import ServiceUnavailable
from utils.timeutil import now_utc

log = logging.getLogger(__name__)
_lock = threading.Lock()
_running: Realtime | None = None
_UNHEALTHY_AFTER_ERRORS = 3


class Realtime:
    """The running services of one app: fan-out and per-process jobs everywhere; writer and pollers in the leader."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.settings: Settings = app.extensions["settings"]
        self.bus = app.extensions["tick_bus"]
        self.fanout = Fanout(
            app, self.settings.fanout_interval_ms / 1000, self.settings.prices_batch_interval_ms / 1000
        )
        self.matcher = matcher.tick_subscriber(app)
        self.alerts = AlertEngine(app)
        self.feed = FeedStreaming(app, self.alerts)
        self.scheduler = Scheduler(
            app,
            feed_jobs.broadcast_jobs(self.settings)
            + app_jobs.every_process_jobs(self.settings)
            + [alert_jobs.sync_job(self.settings, self.alerts)]
            + self.feed.every_process_jobs(),
            phase=market_clock.current_phase,
        )
        self.writer: TickWriter | None = None
        self.leader_scheduler: Scheduler | None = None
        self.terms = 0  # times this process was elected
        self.leadership = Leadership(
            self.settings.database(), self.settings.leader_check_interval_s, self._start_writer, self._stop_writer
        )
        self.job_runner = JobRunner(app, {SCAN_KIND: ScanExecutor(app), CRAWL_KIND: CrawlHandler(app)})
        self.started_monotonic = 0.0
        self.gc_threshold = gc.get_threshold()

    def start(self) -> None:
        """Subscribe to the bus, start the loops and the election, expose jobs, leadership and readiness checks."""
        self.started_monotonic = time.monotonic()
        with self.app.app_context():  # load the exchange calendar now, not in the first request
            market_clock.current_status()
            try:  # and the instrument directory: a follower's first tick and subscribers must not all load it
                payloads.directory()
            except ServiceUnavailable:
                log.warning("instrument directory not loaded at start-up (database unavailable); loading it later")
        self.bus.subscribe(self.fanout.on_batch, "fanout")
        # alerts before the matcher: their firing tasks start while the matcher waits on its query
        self.bus.subscribe(self.alerts.on_batch, "alerts")
        self.bus.subscribe(self.matcher, "order_matcher")
        self.app.extensions["alert_engine"] = self.alerts
        self.bus.start()
        self.fanout.start()
        self.scheduler.start()
        self.app.extensions["realtime"] = self
        self.app.extensions["leader_status"] = self.leadership.status
        self._expose_jobs()
        checks = self.app.extensions.setdefault("readiness_checks", {})
        checks["feed"] = self.feed_check
        checks["scheduler"] = self.scheduler_check
        checks["leader"] = self.leadership.readiness
        checks["writer"] = self.writer_check
        self.leadership.start()  # a process alone on its database leads when this returns
        self.job_runner.start()  # scans and crawler runs: claimed from MySQL (scans computed in the scan process)
        self.app.extensions["job_runner"] = self.job_runner
        log.info(
            "realtime services started (%s provider, leader=%s)",
            self.settings.market_data_provider,
            self.leadership.is_leader,
        )

    def _start_writer(self) -> None:
        """Elected: persist every tick and run the pollers and the other writers (Leadership calls this)."""
        if self.terms:  # led before: a fresh provider (a simulator continues from the stored snapshot)
            market_data.init_app(self.app)
        self.terms += 1
        with self.app.app_context():
            is_trading_day = market_clock.calendar().is_trading_day
        self.writer = TickWriter(load_universe, is_trading_day)
        self.bus.subscribe(self.writer.on_batch, "tick_writer")
        feed = self.feed.start_leading()
        self.leader_scheduler = Scheduler(
            self.app,
            feed_jobs.writer_jobs(self.settings, self.writer, feed) + app_jobs.writer_process_jobs(self.settings),
            phase=market_clock.current_phase,
        )
        self.leader_scheduler.start()
        self._expose_jobs()

    def _stop_writer(self) -> None:
        """Deposed or shutting down: close the feed first, stop the pollers and writers, then flush what the
        tick writer holds."""
        self.feed.stop_leading()
        scheduler, self.leader_scheduler = self.leader_scheduler, None
        writer, self.writer = self.writer, None
        self._expose_jobs()
        if scheduler is not None:
            scheduler.stop()
        if writer is not None:
            self.bus.unsubscribe(writer.on_batch)
            with self.app.app_context():
                writer.flush(final=True)

    def stop(self) -> None:
        """Stop the job runner (and its scan process: a running scan fails saying the server shut down), give up
        leadership (stopping the writer first), then stop the loops and unsubscribe. The shutdown sequence runs this
        in its WORK stage (start_services registers stop_services)."""
        self.job_runner.stop()
        self.leadership.stop()
        self.scheduler.stop()
        self.fanout.stop()
        self.bus.stop()
        self.bus.unsubscribe(self.fanout.on_batch)
        self.bus.unsubscribe(self.matcher)
        self.bus.unsubscribe(self.alerts.on_batch)
        self.app.extensions.pop("alert_engine", None)
        self.feed.stop()

    def _schedulers(self) -> list[Scheduler]:
        return [s for s in (self.scheduler, self.leader_scheduler) if s is not None]

    def _expose_jobs(self) -> None:
        """The admin's run-now registry: this process's jobs (and the leader's while it leads)."""
        self.app.extensions["jobs"] = {
            name: partial(scheduler.run_now, name) for scheduler in self._schedulers() for name in scheduler.jobs
        }

    def feed_check(self) -> dict[str, Any]:
        """Ready unless the market is open and the newest live quote is older than FEED_STALE_AFTER_S; with the
        feed's mode ("streaming", "polling", "down") and reason. An expired provider token stays ready: a
        restart would not renew it (an administrator does, POST /admin/provider/token)."""
        newest = self.app.extensions["live_prices"]["stocks"].newest_as_of()
        age = (now_utc() - newest).total_seconds() if newest else None
        limit = self.settings.feed_stale_after_s
        starting = time.monotonic() - self.started_monotonic < limit
        is_open = market_clock.current_status().is_market_open
        feed = self.feed.mode()
        ok = not is_open or starting or (age is not None and age <= limit) or feed["reason"] == "token_expired"
        return {"ok": ok, "market_open": is_open, "age_s": None if age is None else round(age, 1), **feed}

    def writer_check(self) -> dict[str, Any]:
        """The quote writer's lag (services/realtime/tick_writer.py); only the leader writes, so elsewhere ok."""
        writer = self.writer
        if writer is None:
            return {"ok": True, "active": False}
        return {"active": True, **writer.health(self.settings.quote_write_interval_s)}

    def scheduler_check(self) -> dict[str, Any]:
        """Ready while the schedulers run and no job has failed several times in a row."""
        schedulers = self._schedulers()
        by_name = {name: job for scheduler in schedulers for name, job in scheduler.jobs.items()}
        failing = [n for n, job in by_name.items() if job.consecutive_errors >= _UNHEALTHY_AFTER_ERRORS]
        return {
            "ok": all(s.running for s in schedulers) and not failing,
            "failing": failing,
            "jobs": {name: job.state() for name, job in by_name.items()},
        }


def start_services(app: Flask) -> bool:
    """Start the realtime services for `app` unless this process already runs them; True when started."""
    global _running
    with _lock:
        if _running is not None:
            return False
        _running = Realtime(app)
    _running.start()
    # Full collections paused the event loop 130-380 ms every few seconds with 1,000 clients and
    # 2,000 symbols ticking (each tick allocates tens of thousands of short-lived objects). The
    # start-up heap never becomes garbage: freeze it; and collect the young generation every 10,000
    # allocations instead of 700, so full collections come about 14 times less often.
    _running.gc_threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    shutdown.register("realtime services", shutdown.WORK, stop_services)
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
        log.info("realtime services stopped: schedulers, order matcher, leadership")


def register_shutdown(app: Flask) -> None:
    """Put the app's Socket.IO streams and (after the last request) its database pool in the shutdown sequence."""
    shutdown.register("socket.io streams", shutdown.STREAMS, _close_streams)
    shutdown.register("database pool", shutdown.RESOURCES, app.extensions["db"].close)


def _close_streams() -> None:
    socketio.server.eio.disconnect()  # every WebSocket of this process; clients reconnect elsewhere
    socketio.server.shutdown()
