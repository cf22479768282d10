"""The scheduler's jobs: ordinary functions (tests call them directly) and the two lists that wire them.

`writer_jobs` poll the provider and persist (one process runs them: the leader, once issue 9's
election exists); `broadcast_jobs` push market-wide events to this process's clients.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from backend import db
from backend.extensions import app_extensions
from backend.settings import Settings
from controller.market import candles, snapshots
from services import market_data
from services.market import market_clock
from services.market.hot_cache import refresh_hot_caches
from services.market.live_board import one_catch_up
from services.market.live_price_cache import Quote
from services.market_data.universe import load_universe
from services.platform.scheduler import Job
from services.realtime import payloads
from services.realtime.fanout import emit
from services.realtime.tick_bus import Kind, TickBatch, tick_bus
from services.realtime.tick_writer import TickWriter, ist_day_bounds
from utils.market_hours import MarketStatus
from utils.timeutil import IST, as_utc, iso_ist, now_utc

log = logging.getLogger(__name__)
_OPEN = frozenset({"open"})


def publish_new(kind: Kind, quotes: list[Quote]) -> int:
    """Publish the quotes that differ from the live cache's and are not older (a quiet or frozen feed
    publishes nothing)."""
    cache = app_extensions()["live_prices"][kind]
    fresh = tuple(
        q for q in quotes if (c := cache.get(q.symbol)) is None or q.as_of > c.as_of or (q.as_of == c.as_of and q != c)
    )
    if fresh:
        tick_bus().publish(TickBatch(kind, fresh))
    return len(fresh)


def poll_stock_quotes() -> int:
    """Fetch every stock's quote from the provider and publish the new ones; return how many."""
    return publish_new("stocks", market_data.provider().quotes(list(payloads.directory().stock_ids)))


def poll_index_quotes() -> int:
    """Fetch every index's quote and publish the new ones; return how many."""
    return publish_new("indices", market_data.provider().index_quotes(list(payloads.directory().index_order)))


def write_eod_candles(writer: TickWriter) -> tuple[int, int]:
    """Upsert the daily candle of the latest quoted day from the snapshot (real day high/low/volume); idempotent.
    A day the exchange did not trade (a simulated weekend or holiday session) gets none.

    The first run for a day also rolls every stock's 52-week range over the last 52 weeks of daily candles
    (a year-long scan: once a day per process, not on every run of this job). It runs while `writer` does not
    flush: both lock the same stock_quotes rows, in different orders (services/realtime/tick_writer.py).
    """
    rolled_for = app_extensions().get("week52_rolled_for")
    with writer.exclusive(), db.transaction() as conn:
        newest = snapshots.newest_stock_quote_as_of(conn)
        if newest is None:
            return 0, 0
        day = as_utc(newest).astimezone(IST).date()
        if not market_clock.calendar().is_trading_day(day):
            return 0, 0
        written = candles.write_daily_candles_from_quotes(conn, *ist_day_bounds(day))
        if rolled_for != day:
            candles.roll_52_week_range(conn, ist_day_bounds(day - timedelta(weeks=52))[0])
    app_extensions()["week52_rolled_for"] = day
    return written


def scheduled_eod_candles(writer: TickWriter) -> tuple[int, int]:
    """The end-of-day job: after the close, or at any time in a simulated session (which has no close phase)."""
    status = market_clock.current_status()
    if status.phase == "closed" or status.forced_open:
        return write_eod_candles(writer)
    return 0, 0


def refresh_stale_snapshot(writer: TickWriter | None) -> bool:
    """At start-up: when the newest stored quote is older than SNAPSHOT_STALE_AFTER_S, poll and persist now."""
    settings: Settings = app_extensions()["settings"]
    with db.connection() as conn:
        newest = snapshots.newest_stock_quote_as_of(conn)
    if newest is not None and now_utc() - as_utc(newest) <= timedelta(seconds=settings.snapshot_stale_after_s):
        return False
    poll_stock_quotes()
    poll_index_quotes()
    if writer is not None:
        writer.flush()
    return True


class MarketStatusWatch:
    """Emits `market_status` to everyone when the phase or the session changes, and, when the market closes,
    one `indices_update` with `status: "closed"` (no tick follows to say so)."""

    def __init__(self) -> None:
        self.state: tuple[str, bool] | None = None

    def __call__(self) -> bool:
        """Check the phase and session; emit and return True on a change (the first check only records it)."""
        status = market_clock.current_status()
        state = (status.phase, status.forced_open)
        changed = self.state is not None and state != self.state
        closed = changed and self.state[0] != "closed" and status.phase == "closed"
        self.state = state
        if changed:
            emit("market_status", market_clock.status_json(status))
        if closed:
            emit("indices_update", closing_indices(status))
        return changed


def closing_indices(status: MarketStatus) -> dict:
    """`indices_update` with `status: "closed"`: the last level of every index (the live cache, else the snapshot)."""
    directory = payloads.directory()
    live = app_extensions()["live_prices"]["indices"].snapshot()
    quotes = [live[name] for name in directory.index_order if name in live]
    if not quotes:
        universe = load_universe()
        quotes = [index.quote for index in universe.indices]
    return payloads.indices_update(quotes, directory.index_tags, False, iso_ist(status.now))


class MoversFeed:
    """Emits `movers_update` from the live board (services/market/live_board.py: no SQL, no sort of the universe)
    when prices moved since the last one."""

    def __init__(self) -> None:
        self.version = -1

    def __call__(self) -> bool:
        """Emit when the cache changed; return whether it did."""
        cache = app_extensions()["live_prices"]["stocks"]
        if cache.version == self.version:
            return False
        self.version = cache.version
        emit("movers_update", payloads.movers())
        return True


class MarketViews:
    """The hot caches (`refresh_hot_caches`), then `movers_update` (`MoversFeed`), in one pass. Both read the live
    board, and a board recompute files every stock that ticked since the last one: run as two jobs on their own
    cadences (5 s and 8 s) they filed the universe for each, 60 % more filing than one pass every 5 s."""

    def __init__(self) -> None:
        self.movers = MoversFeed()

    def __call__(self) -> dict:
        """Warm the caches, then emit `movers_update` if prices moved (the live board filed once for both); what was
        warmed and whether it emitted."""
        with one_catch_up():
            return {**refresh_hot_caches(), "movers_update": self.movers()}


def market_views_interval_s(settings: Settings) -> float:
    """MOVERS_INTERVAL_S, or sooner if the hot caches would expire first (they are renewed at 80 % of their TTL)."""
    return min(settings.movers_interval_s, max(1.0, settings.cache_ttl_movers_s * 0.8))


def writer_jobs(settings: Settings, writer: TickWriter, feed: list[Job] | None = None) -> list[Job]:
    """Jobs of the process that polls the provider and persists ticks; `feed` replaces the simulator's two
    polling jobs (with Upstox: the stream's jobs, services/realtime/upstox_stream.py)."""
    poll_s = settings.sim_tick_interval_s
    polling = [
        Job("stock_quotes", poll_s, poll_stock_quotes, _OPEN, settings.enable_stock_scheduler),
        Job("index_quotes", poll_s, poll_index_quotes, _OPEN, settings.enable_index_scheduler),
    ]
    return (polling if feed is None else feed) + [
        Job("quote_writer", settings.quote_write_interval_s, writer.flush),
        Job(
            "eod_candles",
            settings.eod_interval_s,
            lambda: scheduled_eod_candles(writer),
            None,
            settings.enable_eod_scheduler,
        ),
        Job("startup_refresh", None, lambda: refresh_stale_snapshot(writer), None, settings.enable_startup_refresh),
    ]


def broadcast_jobs(settings: Settings) -> list[Job]:
    """Jobs that keep this process's market views current: market-wide pushes to its Socket.IO clients, and its hot
    caches."""
    return [
        Job("market_status", 5.0, MarketStatusWatch()),
        Job("market_views", market_views_interval_s(settings), MarketViews()),
    ]
