"""Candle history: stored 1-minute and daily candles, aggregated into n-minute, week and month bars.

n-minute bars are aligned to the 09:15 IST session open (09:15, 09:20, ... for 5minute); weeks are
ISO weeks (Monday first) and months calendar months, both in IST. A bar's open is its first candle's
open, its close the last candle's close, high the max, low the min and volume the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from controller.sql import fetch_all
from utils.market_hours import OPEN
from utils.timeutil import IST, as_utc, to_db

MINUTE_INTERVALS = {"1minute": 1, "5minute": 5, "15minute": 15, "30minute": 30}
CALENDAR_INTERVALS = ("day", "week", "month")
INTERVALS = (*MINUTE_INTERVALS, *CALENDAR_INTERVALS)
_DAILY_CANDLES_PER_BAR = {"day": 1, "week": 7, "month": 23}  # the most sessions one bar can hold
_OPEN_MINUTE = OPEN.hour * 60 + OPEN.minute

_CANDLES = """
SELECT ts, open, high, low, close, volume FROM stock_candles
WHERE stock_id = %s AND timeframe = %s AND ts >= %s AND ts < %s
ORDER BY ts DESC LIMIT %s
"""


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; `start` is the bar's first candle time (aware UTC)."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def source_timeframe(interval: str) -> str:
    """The stored timeframe an interval is built from: '1m' or '1d'."""
    return "1m" if interval in MINUTE_INTERVALS else "1d"


def candles_needed(interval: str, limit: int) -> int:
    """How many stored candles are enough for `limit` bars plus one possibly cut bar."""
    per_bar = MINUTE_INTERVALS.get(interval) or _DAILY_CANDLES_PER_BAR[interval]
    return (limit + 1) * per_bar


def stored_candles(
    conn: Any, stock_id: int, timeframe: str, start: datetime, end: datetime, max_rows: int
) -> list[Candle]:
    """The latest `max_rows` stored candles with start <= ts < end, oldest first."""
    rows = fetch_all(conn, _CANDLES, (stock_id, timeframe, to_db(start), to_db(end), max_rows))
    return [
        Candle(as_utc(r["ts"]), r["open"], r["high"], r["low"], r["close"], int(r["volume"])) for r in reversed(rows)
    ]


def _minute_bucket(minutes: int) -> Callable[[Candle], Hashable]:
    def key(candle: Candle) -> datetime:
        local = candle.start.astimezone(IST)
        offset = (local.hour * 60 + local.minute - _OPEN_MINUTE) // minutes * minutes + _OPEN_MINUTE
        return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=offset)

    return key


def _calendar_bucket(interval: str) -> Callable[[Candle], Hashable]:
    def key(candle: Candle) -> date:
        day = candle.start.astimezone(IST).date()
        if interval == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1) if interval == "month" else day

    return key


def bar_key(interval: str) -> Callable[[Candle], Hashable]:
    """The function mapping a stored candle to its bar: an IST datetime (n-minute) or a date."""
    if interval in MINUTE_INTERVALS:
        return _minute_bucket(MINUTE_INTERVALS[interval])
    return _calendar_bucket(interval)


def aggregate(candles: Iterable[Candle], interval: str) -> list[tuple[Hashable, Candle]]:
    """Group candles (oldest first) into bars of `interval`; returns (bar key, bar) pairs, oldest first."""
    key_of = bar_key(interval)
    bars: list[tuple[Hashable, Candle]] = []
    for candle in candles:
        key = key_of(candle)
        if bars and bars[-1][0] == key:
            bar = bars[-1][1]
            bars[-1] = (
                key,
                Candle(
                    bar.start,
                    bar.open,
                    max(bar.high, candle.high),
                    min(bar.low, candle.low),
                    candle.close,
                    bar.volume + candle.volume,
                ),
            )
        else:
            bars.append((key, candle))
    return bars


def latest_bars(candles: list[Candle], interval: str, limit: int) -> list[tuple[Hashable, Candle]]:
    """The newest `limit` bars. Given `candles_needed(interval, limit)` candles there are more than
    `limit` bars whenever the row limit cut the oldest one, so a partial bar is never returned."""
    return aggregate(candles, interval)[-limit:]
