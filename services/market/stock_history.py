"""Candle history as the API serves it, cached per (symbol, interval, range, limit).

Until the end-of-day job stores a session's daily candle, day/week/month history includes the
current session as a bar built from the stock's snapshot quote (open, high, low, last, volume).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from backend import db
from backend.extensions import app_extensions
from controller.market import history
from controller.market.history import Candle
from controller.market.stocks import StockQuote
from services.market.market_clock import calendar, clock
from services.market.stock_views import stock_snapshot
from services.platform.cache_service import named_cache
from utils.market_hours import session_open_utc
from utils.quote_format import number
from utils.timeutil import IST

_EPOCH = datetime(1990, 1, 1, tzinfo=UTC)


def _ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=IST).astimezone(UTC)


def _session_bar(candles: list[Candle], stock: StockQuote, start: datetime, end: datetime) -> list[Candle]:
    """Daily candles plus the snapshot's session when it is in range and not stored yet."""
    day = stock.as_of.astimezone(IST).date()
    opened = session_open_utc(day)
    if not (start <= opened < end) or stock.as_of < opened or not calendar().is_trading_day(day):
        return candles
    if candles and candles[-1].start >= opened:
        return candles
    return [*candles, Candle(opened, stock.day_open, stock.day_high, stock.day_low, stock.ltp, stock.volume)]


def _bar_time(interval: str, key: date | datetime) -> str | int:
    if interval in history.MINUTE_INTERVALS:
        return int(key.timestamp())
    return key.isoformat()


def compute_history(symbol: str, interval: str, first: date | None, last: date | None, limit: int) -> dict:
    """Bars of `interval` between the IST dates `first` and `last` (both included), newest `limit`."""
    stock = stock_snapshot(symbol)
    start = _ist_midnight(first) if first else _EPOCH
    end = _ist_midnight((last or clock().astimezone(IST).date()) + timedelta(days=1))
    timeframe = history.source_timeframe(interval)
    with db.connection() as conn:
        candles = history.stored_candles(
            conn, stock.stock_id, timeframe, start, end, history.candles_needed(interval, limit)
        )
    if timeframe == "1d":
        candles = _session_bar(candles, stock, start, end)
    bars = [
        {
            "time": _bar_time(interval, key),
            "open": number(bar.open),
            "high": number(bar.high),
            "low": number(bar.low),
            "close": number(bar.close),
            "volume": bar.volume,
        }
        for key, bar in history.latest_bars(candles, interval, limit)
    ]
    return {"symbol": stock.symbol, "interval": interval, "count": len(bars), "data": bars}


def stock_history(symbol: str, interval: str, first: date | None, last: date | None, limit: int) -> dict:
    """Cached `compute_history` (CACHE_TTL_HISTORY_S); NotFound for an unknown symbol."""
    stock_snapshot(symbol)  # unknown symbols fail before a cache entry is made for them
    ttl = app_extensions()["settings"].cache_ttl_history_s
    key = (symbol, interval, first, last, limit)
    return named_cache("history", ttl, maxsize=1024).get_or_load(
        key, lambda: compute_history(symbol, interval, first, last, limit)
    )
