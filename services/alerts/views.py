"""Alerts as the API shows them: each with the level it watches now and the current price (or volume) it is
compared with, from fresh live quotes, else the database snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.alerts import index_source, rules
from controller.alerts.models import Alert
from services.market.live_overlay import fresh_lookup
from services.market.market_clock import calendar, clock
from utils.market_hours import session_open_utc
from utils.quote_format import circuit_limits
from utils.timeutil import IST

WEEK52_SESSIONS = 250


def week52(conn: Any, symbols: Sequence[str], day: date) -> dict[str, tuple[Decimal, Decimal]]:
    """symbol -> (highest high, lowest low) of the 250 sessions before `day` (today excluded)."""
    if not symbols:
        return {}
    sessions = calendar().previous_trading_days(day, WEEK52_SESSIONS)
    return index_source.week52_ranges(conn, symbols, session_open_utc(sessions[0]), session_open_utc(day))


def alert_objects(alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """The API's alert objects, with `level`, `current` and `distance_pct` filled in where they are known."""
    if not alerts:
        return []
    settings = app_extensions()["settings"]
    now = clock()
    live = app_extensions()["live_prices"]
    fresh = {"stock": fresh_lookup(live["stocks"], now), "index": fresh_lookup(live["indices"], now)}
    prices: dict[tuple[str, str], dict[str, Any]] = {}
    for alert in alerts:
        quote = fresh["stock" if alert.instrument_type == "stock" else "index"](alert.symbol)
        if quote is not None:
            prices[(alert.instrument_type, alert.symbol)] = {
                "ltp": quote.ltp,
                "prev_close": quote.prev_close,
                "volume": quote.volume,
            }
    stocks = sorted({a.symbol for a in alerts if a.instrument_type == "stock"})
    indices = sorted({a.symbol for a in alerts if a.instrument_type == "index" and ("index", a.symbol) not in prices})
    week52_symbols = sorted({a.symbol for a in alerts if a.kind in rules.WEEK52})
    with db.connection() as conn:
        snapshot = {("stock", s): row for s, row in index_source.stock_prices(conn, stocks).items()}
        snapshot.update({("index", s): row for s, row in index_source.index_prices(conn, indices).items()})
        ranges = week52(conn, week52_symbols, now.astimezone(IST).date())
    objects = []
    for alert in alerts:
        key = (alert.instrument_type, alert.symbol)
        row = snapshot.get(key, {})
        price = prices.get(key) or row
        prev_close, tick = price.get("prev_close"), row.get("tick_size")
        upper = lower = None
        if prev_close is not None and tick is not None:
            upper, lower = circuit_limits(prev_close, settings.price_band_percent, tick)
        high, low = ranges.get(alert.symbol, (None, None))
        at = rules.level(alert.kind, alert.value, rules.Session(prev_close, upper, lower, high, low))
        current = price.get("volume") if alert.kind in rules.VOLUME else price.get("ltp")
        objects.append(alert.to_json(at, current))
    return objects
