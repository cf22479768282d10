"""Laying live quotes over database snapshots, and asking the provider when `forceLive=1` misses.

Rules: live numbers replace the snapshot only while the market is open and only when the cached
quote is at most `LIVE_CACHE_MAX_AGE_S` old (by the app clock), so a stalled feed falls back to the
database instead of passing old prices off as live. `priceSource`/`source` names the origin:
`database`, `websocket_cache` or `upstox_api`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from backend.extensions import app_extensions
from controller.market.indices import IndexQuote
from controller.market.stocks import StockQuote
from services.market.live_price_cache import LivePriceCache, Quote, index_prices, stock_prices
from services.market.market_clock import clock, market_open_now
from utils.errors import AppError

log = logging.getLogger(__name__)
DATABASE, WEBSOCKET_CACHE, UPSTOX_API = "database", "websocket_cache", "upstox_api"


def overlay_enabled(now: datetime | None = None) -> bool:
    """True while the market is open (live quotes may replace snapshots); `now` when the caller read the clock."""
    return market_open_now(now)


def _max_age() -> float:
    return app_extensions()["settings"].live_cache_max_age_s


def fresh_stock_quote(symbol: str) -> Quote | None:
    """The cached live quote of a stock if it is fresh enough, else None (market hours not checked)."""
    return fresh_lookup(stock_prices())(symbol)


def fresh_stock_quotes() -> Callable[[str], Quote | None] | None:
    """While the market is open, `fresh_stock_quote` for one pass over a response's rows (the clock, the cache and the
    age limit looked up once); None while it is closed."""
    now = clock()
    return fresh_lookup(stock_prices(), now) if overlay_enabled(now) else None


def fresh_lookup(cache: LivePriceCache, now: datetime | None = None) -> Callable[[str], Quote | None]:
    """symbol -> the cache's quote if at most LIVE_CACHE_MAX_AGE_S old at `now` (the clock's time by default), else
    None: one lookup for a pass over many symbols."""
    return cache.fresh_since((now or clock()) - timedelta(seconds=_max_age()))


def _session_fields(quote: Quote, source: str) -> dict:
    """The numbers of a row that a live quote replaces (stocks and indices alike)."""
    return {
        "ltp": quote.ltp,
        "prev_close": quote.prev_close,
        "day_open": quote.day_open,
        "day_high": quote.day_high,
        "day_low": quote.day_low,
        "as_of": quote.as_of,
        "source": source,
    }


def with_stock_quote(row: StockQuote, quote: Quote, source: str) -> StockQuote:
    """`row` with the live quote's numbers (52-week range widened to include today's range)."""
    return replace(
        row,
        **_session_fields(quote, source),
        volume=quote.volume,
        week52_high=quote.day_high if row.week52_high is None else max(row.week52_high, quote.day_high),
        week52_low=quote.day_low if row.week52_low is None else min(row.week52_low, quote.day_low),
    )


def overlay_stocks(rows: Iterable[StockQuote]) -> tuple[list[StockQuote], bool]:
    """Rows with fresh live quotes laid over while the market is open; and whether any was live."""
    rows = list(rows)
    fresh = fresh_stock_quotes() if rows else None
    if fresh is None:
        return rows, False
    result, live = [], False
    for row in rows:
        quote = fresh(row.symbol)
        result.append(row if quote is None else with_stock_quote(row, quote, WEBSOCKET_CACHE))
        live = live or quote is not None
    return result, live


def with_index_quote(row: IndexQuote, quote: Quote) -> IndexQuote:
    """`row` with the live quote's level and session numbers."""
    return replace(row, **_session_fields(quote, WEBSOCKET_CACHE))


def fresh_index_quotes(rows: list[IndexQuote]) -> list[Quote | None] | None:
    """While the market is open, each index row's fresh live quote (None where it has none); None while closed. A
    caller lays them over with `with_index_quote` (and may keep what it made while the same quotes come back)."""
    if not rows or not overlay_enabled():
        return None
    fresh = fresh_lookup(index_prices())
    return [fresh(row.name) for row in rows]


def live_feed_active() -> bool:
    """True while the market is open and at least one cached stock quote is fresh."""
    if not overlay_enabled():
        return False
    newest = stock_prices().newest_as_of()
    return newest is not None and (clock() - newest).total_seconds() <= _max_age()


def provider_quote(symbol: str) -> tuple[Quote, str] | None:
    """Ask the app's market-data provider for one quote (and cache it); None when it fails (unreachable or
    answering errors: its ProviderError is an AppError) or does not know the symbol."""
    provider = app_extensions()["market_data_provider"]
    try:
        quotes = provider.quotes([symbol])
    except (OSError, ValueError, AppError) as exc:
        log.warning(
            "forceLive: provider quote for %s failed (%s); serving the database snapshot",
            symbol,
            exc.__class__.__name__,
        )
        return None
    quote = next((q for q in quotes if q.symbol == symbol), None)
    if quote is None:
        return None
    stock_prices().update([quote])
    return quote, UPSTOX_API if getattr(provider, "name", "") == "upstox" else WEBSOCKET_CACHE
