"""The alert engine of one process: its index, kept in step with the database, evaluated on every tick batch.

Every process that receives ticks runs one (services/runtime/lifecycle.py). The tick-bus subscriber only
evaluates (memory and CPU, no I/O); the alerts it finds are fired in a background task, where the database
decides which process fires each (services/alerts/firing.py). Changes made in this process are applied to its
index right after their commit; the `alerts_sync` job polls the revision counter (one primary-key read) and
loads what other processes changed (docs/ALERTS.md: how the indexes stay in step).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from flask import Flask

from backend import db
from backend.extensions import app_extensions, socketio
from controller.alerts import index_source
from controller.alerts.models import Alert
from services.alerts.firing import fire
from services.alerts.index import AlertIndex, Candidate, Entry
from services.alerts.views import week52
from services.market.live_price_cache import Quote
from services.market.market_clock import clock
from services.platform import green
from services.realtime.tick_bus import TickBatch
from utils import metrics
from utils.timeutil import IST

log = logging.getLogger(__name__)
FIRING_TASKS = 8  # tasks firing one batch's alerts at once, each taking the next alert from a shared queue
LOAD_PAGE = 1000  # alerts read at a time by a first load (a page of rows is garbage after it: small keeps the peak low)


def entry_of(row: Alert | dict[str, Any]) -> Entry:
    """What the index keeps of an alert (a model or a row of index_source.INDEX_COLUMNS)."""
    if isinstance(row, Alert):
        return Entry(
            row.alert_id, row.instrument_type, row.symbol, row.kind, row.value, row.fire_if_already, row.times_triggered
        )
    return Entry(
        int(row["alert_id"]),
        row["instrument_type"],
        row["symbol"],
        row["kind"],
        row["value"],
        bool(row["fire_if_already"]),
        int(row["times_triggered"]),
    )


class AlertEngine:
    """One process's alert index, its tick-bus subscriber and its sync job."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.index = AlertIndex(app.extensions["settings"].price_band_percent)
        self.revision: int | None = None  # None until the first full load
        self._lock = threading.Lock()

    # --- the tick path -------------------------------------------------------------------------------------

    def on_batch(self, batch: TickBatch) -> None:
        """Evaluate a tick batch; fire what it crossed in a background task (the tick path never waits on SQL)."""
        if self.revision is None:
            return
        pending = deque(self.evaluate(batch.kind, batch.quotes))
        for _ in range(min(FIRING_TASKS, len(pending))):
            socketio.start_background_task(self._fire, pending)

    def evaluate(self, book: str, quotes: Iterable[Quote]) -> list[Candidate]:
        """The alerts these quotes make fire (the database still decides)."""
        with self._lock:
            started = time.thread_time()  # CPU: nothing in here yields to another green thread
            found = self.index.evaluate(book, quotes)
            metrics.ALERT_EVALUATION_SECONDS.observe(time.thread_time() - started)
        return found

    def streamed_stocks(self) -> list[str]:
        """The stocks with active alerts: a stream target source (their last price and previous close)."""
        with self._lock:
            return self.index.symbols("stocks")

    def streamed_volumes(self) -> list[str]:
        """The stocks with volume alerts: a stream target source that needs the full feed (with the volume)."""
        with self._lock:
            return self.index.symbols("stocks", volume_only=True)

    def _fire(self, pending: deque[Candidate]) -> None:
        # A shared queue, not fixed shares: an alert waiting on the database (its order) holds up no other alert.
        with self.app.app_context():
            while pending:
                fire([pending.popleft()], self.forget)

    # --- keeping in step with the database ----------------------------------------------------------------

    def sync(self) -> None:
        """The `alerts_sync` job: load every active alert the first time, then what changed since the last run;
        and the day's 52-week ranges of the stocks that need them."""
        with db.connection() as conn:
            revision = index_source.current_revision(conn)
            if self.revision is None:
                self._load(conn)
            elif revision > self.revision:
                self._apply(conn, index_source.changed_alerts(conn, self.revision, revision))
            self.revision = max(revision, self.revision or 0)
            self._load_week52(conn)
        metrics.ALERT_INDEX_SIZE.set(self.index.size)
        metrics.ALERT_INDEX_REVISION.set(self.revision)

    def _load(self, conn: Any) -> None:
        """Every active alert, a page at a time (changes meanwhile are read again by the next sync)."""
        after = 0
        while rows := index_source.active_alerts(conn, after, LOAD_PAGE, green.pause):
            self._apply(conn, rows)
            after = int(rows[-1]["alert_id"])

    def apply(self, alerts: Iterable[Alert]) -> None:
        """Bring this process's index up to date with alerts it just committed (the others poll for them)."""
        alerts = list(alerts)
        if self.revision is None or not alerts:
            return  # not loaded yet: the first load reads them from the database
        with db.connection() as conn:
            self._apply(conn, alerts)
            self._load_week52(conn)
        metrics.ALERT_INDEX_SIZE.set(self.index.size)

    def forget(self, instrument_type: str, symbol: str, alert_id: int) -> None:
        """Drop an alert that is no longer active (a 'once' alert that fired, an alert deleted with its user)."""
        with self._lock:
            self.index.remove(instrument_type, symbol, alert_id)

    def _apply(self, conn: Any, rows: list[Alert | dict[str, Any]]) -> None:
        active = [row for row in rows if _status(row) == "active"]
        self._open_instruments(conn, {(_field(row, "instrument_type"), _field(row, "symbol")) for row in active})
        with self._lock:
            for n, row in enumerate(rows, 1):
                entry = entry_of(row)
                if _status(row) == "active":
                    self.index.add(entry)
                else:
                    self.index.remove(entry.instrument_type, entry.symbol, entry.alert_id)
                if n % 1000 == 0:  # a first load of many alerts: let requests and the fan-out run
                    self._lock.release()
                    try:
                        green.pause()
                    finally:
                        self._lock.acquire()

    def _open_instruments(self, conn: Any, wanted: set[tuple[str, str]]) -> None:
        """Start watching new instruments from their latest live quote, else their database snapshot."""
        with self._lock:
            new = [(kind, symbol) for kind, symbol in wanted if not self.index.knows(kind, symbol)]
        if not new:
            return
        stocks = sorted(symbol for kind, symbol in new if kind == "stock")
        indices = sorted(symbol for kind, symbol in new if kind == "index")
        snapshots = {
            "stock": index_source.stock_prices(conn, stocks),
            "index": index_source.index_prices(conn, indices),
        }
        live = app_extensions()["live_prices"]
        with self._lock:
            for kind, symbol in new:
                row = snapshots[kind].get(symbol) or {}
                quote = live["stocks" if kind == "stock" else "indices"].get(symbol)
                self.index.open_instrument(
                    kind,
                    symbol,
                    quote.ltp if quote else row.get("ltp"),
                    quote.prev_close if quote else row.get("prev_close"),
                    quote.volume if quote else int(row.get("volume") or 0),
                    row.get("tick_size"),
                )

    def _load_week52(self, conn: Any) -> None:
        """Load today's 52-week ranges (the 250 sessions before today) of the stocks whose 52-week alerts need them."""
        day = clock().astimezone(IST).date()
        with self._lock:
            wanted = self.index.week52_wanted(day)
        if not wanted:
            return
        ranges = week52(conn, wanted, day)
        with self._lock:
            for symbol in wanted:
                high, low = ranges.get(symbol, (None, None))
                self.index.set_week52(symbol, day, high, low)


def _field(row: Alert | dict[str, Any], name: str) -> Any:
    return getattr(row, name) if isinstance(row, Alert) else row[name]


def _status(row: Alert | dict[str, Any]) -> str:
    return _field(row, "status")


def engine() -> AlertEngine | None:
    """The current app's alert engine (None when its services are not running, e.g. in most tests)."""
    return app_extensions().get("alert_engine")
