"""The leader's Upstox pipeline: stream what dashboards need over the V3 feed, poll the rest over REST, publish
both on the tick bus, and report the feed's mode and the exchange's session status to every process.

Created on election and stopped first on step-down or SIGTERM (services/runtime/lifecycle.py), so only the
leader holds the feed connection (Upstox allows one per app and user). Its jobs, in the leader's scheduler:

- `upstox_targets` (UPSTOX_FEED_TARGETS_INTERVAL_S): gather the stream targets (services/realtime/
  stream_targets.py), plan them within the feed's limits and change the live subscriptions;
- `upstox_rest` (UPSTOX_POLL_INTERVAL_S, market open): REST for what the feed does not stream in full
  (services/realtime/rest_poller.py), everything the feed was streaming too while it is disconnected;
- `upstox_report` (5 s, always): write the report (`market_feed_state`) that /healthz and the market phase
  of every process read; while the feed is down, ask REST for the exchange's status every 30 s.

Feed frames are decoded in the feed's reader task and published by a second task at most every
PUBLISH_EVERY_S (the latest quote per instrument): the reader never waits on the tick bus's subscribers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Flask

from backend import db
from backend.extensions import app_extensions, socketio
from backend.settings import Settings
from controller.platform import feed_state
from services.market import exchange_session, market_clock
from services.market.live_price_cache import Quote
from services.market_data.base import ProviderError, TokenRejected
from services.market_data.provider_token import ProviderTokens, fingerprint
from services.market_data.stream_plan import StreamLimits, plan
from services.market_data.upstox import Upstox
from services.market_data.upstox_codec import FeedUpdate, Kind, Mode
from services.market_data.upstox_feed import UpstoxFeed
from services.platform.leader import process_identity
from services.platform.scheduler import Job
from services.realtime.feed_jobs import publish_new
from services.realtime.rest_poller import RestPoller
from services.realtime.stream_targets import StreamTargets
from utils.market_hours import market_status
from utils.timeutil import IST, now_utc, to_db

log = logging.getLogger(__name__)
PUBLISH_EVERY_S = 0.05
REPORT_EVERY_S = 5.0
HEARTBEAT_S = 15.0  # rewrite an unchanged report this often (readers drop one older than 60 s)
STATUS_POLL_S = 30.0  # REST market status while the feed cannot say
SEGMENT = "NSE_EQ"
_OPEN = frozenset({"open"})


class UpstoxStream:
    """The feed, the REST poller and the report of one leadership term."""

    def __init__(self, app: Flask, provider: Upstox, targets: StreamTargets, tokens: ProviderTokens) -> None:
        self.app = app
        self.provider = provider
        self.targets = targets
        self.tokens = tokens
        self.settings: Settings = app.extensions["settings"]
        s = self.settings
        self.limits = StreamLimits(
            s.upstox_feed_ltpc_keys,
            s.upstox_feed_full_keys,
            s.upstox_feed_mixed_ltpc_keys,
            s.upstox_feed_mixed_full_keys,
        )
        caches = app.extensions["live_prices"]
        self._names: dict[str, tuple[Kind, str]] | None = None
        self._keys: dict[Kind, dict[str, str]] = {}
        self.feed = (
            UpstoxFeed(
                provider.feed_url,
                self.names,
                lambda kind, symbol: caches[kind].get(symbol),
                self.on_update,
                tokens.refresh,
                self.limits,
                max_backoff_s=s.upstox_feed_max_backoff_s,
            )
            if s.upstox_feed_enabled
            else None
        )
        self.poller = RestPoller(
            provider, self.names, s.upstox_poll_calls_per_min, s.upstox_rest_refresh_s, s.upstox_poll_interval_s
        )
        self.planned: dict[str, Mode] = {}
        self._lock = threading.Lock()
        self._pending: dict[tuple[Kind, str], Quote] = {}
        self._wake = None
        self._running = False
        self.rest_error: str | None = None
        self.refused_token: str | None = None  # fingerprint of the token REST refused
        self.exchange_status: tuple[str, date] | None = None
        self._status_polled_at = -STATUS_POLL_S
        self._reported: tuple[Any, ...] | None = None
        self._reported_at = 0.0

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the feed's reader and the publisher."""
        self._running = True
        self._wake = socketio.server.eio.create_event()
        socketio.start_background_task(self._publish_loop)
        if self.feed is not None:
            socketio.start_background_task(self._feed_task)

    def stop(self) -> None:
        """Close the feed first, then stop publishing; report that nobody streams now (once; later calls return)."""
        if not self._running:
            return
        if self.feed is not None:
            self.feed.stop()
        self._running = False
        if self._wake is not None:
            self._wake.set()
        with self.app.app_context():
            self._write_report("down", "leader_stepped_down")

    def jobs(self) -> list[Job]:
        """The leader's Upstox jobs."""
        s = self.settings
        return [
            Job("upstox_targets", s.upstox_feed_targets_interval_s, self.apply_targets),
            Job("upstox_rest", s.upstox_poll_interval_s, self.poll_rest, _OPEN),
            Job("upstox_report", REPORT_EVERY_S, self.report),
        ]

    def _feed_task(self) -> None:
        with self.app.app_context():
            self.feed.run()

    # -- instruments ---------------------------------------------------------------------------------

    def names(self) -> Mapping[str, tuple[Kind, str]]:
        """Instrument key -> (kind, symbol or index name), read from the provider once."""
        if self._names is None:
            stocks, indices = self.provider.instrument_keys()
            self._keys = {"stocks": stocks, "indices": indices}
            self._names = {key: ("stocks", s) for s, key in stocks.items()} | {
                key: ("indices", n) for n, key in indices.items()
            }
        return self._names

    def apply_targets(self) -> int:
        """Gather the targets, plan them within the limits, and change the feed's subscriptions; return keys."""
        self.names()
        self.planned = plan(self.targets.gather(self._keys), self.limits)
        if self.feed is not None:
            self.feed.subscribe(self.planned)
        return len(self.planned)

    # -- the feed's frames ---------------------------------------------------------------------------

    def on_update(self, update: FeedUpdate) -> None:
        """The feed's reader hands over each decoded frame: quotes wait for the publisher; a phase is recorded."""
        if update.segment_status:
            status = update.segment_status.get(SEGMENT)
            if status:
                self._exchange_says(status, market_clock.clock())
            return
        if update.quotes:
            with self._lock:
                for kind, quotes in update.quotes.items():
                    for quote in quotes:
                        self._pending[(kind, quote.symbol)] = quote
            self._wake.set()

    def _publish_loop(self) -> None:
        while self._running:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, {}
            if pending:
                by_kind: dict[Kind, list[Quote]] = {}
                for (kind, _), quote in pending.items():
                    by_kind.setdefault(kind, []).append(quote)
                with self.app.app_context():
                    for kind, quotes in by_kind.items():
                        publish_new(kind, quotes)
            socketio.sleep(PUBLISH_EVERY_S)

    # -- REST ------------------------------------------------------------------------------------------

    def poll_rest(self) -> int:
        """One REST pass (skipped while the current token is the one Upstox refused); return quotes published."""
        token = fingerprint(self.tokens.current())
        if self.refused_token is not None and token == self.refused_token:
            return 0
        connected = self.feed is not None and self.feed.connected
        streamed = self.feed.subscribed() if self.feed is not None else {}
        try:
            polled = self.poller.poll(streamed, connected, self.planned)
        except TokenRejected as exc:
            self.refused_token = token
            self.rest_error = str(exc)
            log.error("upstox REST: %s; polling waits for a new token (POST /admin/provider/token)", exc)
            return 0
        except ProviderError as exc:
            self.rest_error = str(exc)[:200]
            raise
        self.refused_token = self.rest_error = None
        published = 0
        for kind, quotes in polled.items():
            published += publish_new(kind, self._keep_streamed_prices(kind, quotes, streamed if connected else {}))
        return published

    def _keep_streamed_prices(self, kind: Kind, quotes: list[Quote], streamed: Mapping[str, Mode]) -> list[Quote]:
        """For instruments streamed in ltpc, REST brings the day's OHLC and volume, never an older price."""
        if not streamed:
            return quotes
        keys = self._keys[kind]
        cache = self.app.extensions["live_prices"][kind]
        merged = []
        for quote in quotes:
            live = cache.get(quote.symbol)
            if streamed.get(keys.get(quote.symbol, "")) == "ltpc" and live is not None and live.as_of >= quote.as_of:
                quote = live._replace(
                    day_open=quote.day_open,
                    day_high=max(live.day_high, quote.day_high),
                    day_low=min(live.day_low, quote.day_low),
                    volume=max(live.volume, quote.volume),
                )
            merged.append(quote)
        return merged

    # -- the report ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Mode ("streaming", "polling", "down") and reason, as this leader sees its feed now."""
        if self.feed is not None and self.feed.connected:
            return {"mode": "streaming", "reason": None}
        feed_reason = self.feed.reason if self.feed is not None else "streaming_disabled"
        if feed_reason == "token_expired" or self.refused_token is not None:
            return {"mode": "down", "reason": "token_expired"}
        if self.rest_error is not None:
            return {"mode": "down", "reason": "upstream_unreachable"}
        return {"mode": "polling", "reason": feed_reason}

    def report(self) -> dict[str, Any]:
        """Write the report when it changed (or every HEARTBEAT_S); ask REST for the exchange's status while
        the feed cannot say (every STATUS_POLL_S)."""
        state = self.state()
        if state["mode"] != "streaming" and time.monotonic() - self._status_polled_at >= STATUS_POLL_S:
            self._status_polled_at = time.monotonic()
            try:
                self._exchange_says(self.provider.exchange_status(), market_clock.clock(), write=False)
            except ProviderError as exc:  # the calendar decides meanwhile
                log.info("upstox market status not read: %s", exc)
        self._write_report(state["mode"], state["reason"])
        return state

    def _write_report(self, mode: str, reason: str | None, force: bool = False) -> None:
        status, day = self.exchange_status or (None, None)
        report = (mode, reason, status, day)
        if not force and report == self._reported and time.monotonic() - self._reported_at < HEARTBEAT_S:
            return
        with db.transaction() as conn:
            feed_state.save(
                conn, exchange_session.PROVIDER, mode, reason, status, day, process_identity(), to_db(now_utc())
            )
        self._reported, self._reported_at = report, time.monotonic()
        app_extensions().pop("feed_report_memo", None)  # this process follows its own word at once

    def _exchange_says(self, status: str, at: Any, write: bool = True) -> None:
        """Record the exchange's status for its IST day; log where the calendar disagrees on whether it is open."""
        day = at.astimezone(IST).date()
        if self.exchange_status == (status, day):
            return
        self.exchange_status = (status, day)
        calendar_phase = market_status(at, market_clock.calendar()).phase
        if (exchange_session.phase_of(status) == "open") != (calendar_phase == "open"):
            log.warning(
                "NSE reports %s at %s IST while the calendar says %s: following the exchange for %s",
                status,
                at.astimezone(IST).strftime("%H:%M"),
                calendar_phase,
                day.isoformat(),
            )
        if write:
            state = self.state()
            self._write_report(state["mode"], state["reason"], force=True)
