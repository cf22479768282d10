"""Helpers for market-data tests: a frozen app clock and live quotes put into the app's caches."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import Flask

from services.market.live_price_cache import Quote, index_prices, stock_prices
from services.market.market_clock import set_clock
from tests.conftest import SEED_NOW
from utils.timeutil import IST

OPEN_NOW = SEED_NOW  # Friday 2026-11-20 11:00 IST, mid-session
CLOSED_NOW = datetime(2026, 11, 20, 16, 0, tzinfo=IST)  # the same day after the close
# An index row of /indices/all and /indices/<name>, exactly (the existing dashboard clients' shape).
INDEX_ROW = {
    "name",
    "value",
    "valueNum",
    "open",
    "high",
    "low",
    "prevClose",
    "change",
    "changeValue",
    "changePercentNum",
    "changeValueNum",
    "direction",
    "tag",
    "lastUpdated",
}


def freeze(app: Flask, when: datetime) -> datetime:
    """Make `when` the app's "now"; returns it."""
    set_clock(app, lambda: when)
    return when


def quote(
    symbol: str, ltp: str, prev_close: str, as_of: datetime, *, day_open: str | None = None, volume: int = 1000
) -> Quote:
    """A live quote with the day's range around `ltp` and `day_open` (default: the previous close)."""
    price, prev, opened = Decimal(ltp), Decimal(prev_close), Decimal(day_open or prev_close)
    return Quote(symbol, price, prev, opened, max(price, opened), min(price, opened), volume, as_of)


def put_stock_quotes(app: Flask, *quotes: Quote) -> None:
    """Put quotes into the app's live stock cache."""
    with app.app_context():
        stock_prices().update(quotes)


def put_index_quotes(app: Flask, *quotes: Quote) -> None:
    """Put quotes into the app's live index cache."""
    with app.app_context():
        index_prices().update(quotes)


def seconds_ago(now: datetime, seconds: float) -> datetime:
    """`now` minus `seconds`."""
    return now - timedelta(seconds=seconds)
