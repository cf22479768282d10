"""Socket.IO payloads (shapes as in docs/API.md) and the instrument directory they draw metadata from."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app

from services.market.live_price_cache import Quote
from services.market_data.universe import load_universe
from utils.timeutil import iso_ist

MOVERS_LIMIT = 10


@dataclass(frozen=True)
class Directory:
    """Instrument metadata the fan-out needs without touching the database per tick."""

    stock_ids: dict[str, int]
    company_names: dict[str, str]
    index_tags: dict[str, str]
    index_order: tuple[str, ...]


def directory() -> Directory:
    """The current app's directory, read from the database once."""
    found = current_app.extensions.get("instrument_directory")
    if found is None:
        universe = load_universe()
        found = current_app.extensions["instrument_directory"] = Directory(
            stock_ids={s.symbol: s.stock_id for s in universe.stocks},
            company_names={s.symbol: s.company_name for s in universe.stocks},
            index_tags={i.name: i.tag for i in universe.indices},
            index_order=tuple(i.name for i in universe.indices),
        )
    return found


@lru_cache(maxsize=64)
def _iso(as_of: datetime) -> str | None:
    return iso_ist(as_of)  # a tick's quotes share one timestamp: format it once


def price_update(quote: Quote, stock_id: int | None) -> dict[str, Any]:
    """`price_update` (and `prices_batch` item): {symbol, stock_id, ltp, change, change_pct, ...}.

    Display arithmetic in floats (the payload is JSON numbers anyway); the cache keeps Decimals.
    """
    ltp, prev_close = float(quote.ltp), float(quote.prev_close)
    return {
        "symbol": quote.symbol,
        "stock_id": stock_id,
        "ltp": ltp,
        "change": round(ltp - prev_close, 2),
        "change_pct": round((ltp - prev_close) * 100 / prev_close, 2) if prev_close else 0.0,
        "day_open": float(quote.day_open),
        "day_high": float(quote.day_high),
        "day_low": float(quote.day_low),
        "prev_close": prev_close,
        "volume": quote.volume,
        "as_of": _iso(quote.as_of),
    }


def indices_update(quotes: Iterable[Quote], tags: dict[str, str], is_open: bool, now_iso: str) -> dict[str, Any]:
    """`indices_update`: {status: live|closed, data: [{name, ltp, open, ...}], timestamp}."""
    data = [
        {
            "name": q.symbol,
            "ltp": float(q.ltp),
            "open": float(q.day_open),
            "high": float(q.day_high),
            "low": float(q.day_low),
            "prev_close": float(q.prev_close),
            "change_value": round(float(q.change_value), 2),
            "change_percent": round(float(q.change_pct), 2),
            "tag": tags.get(q.symbol, ""),
            "last_updated": iso_ist(q.as_of),
        }
        for q in quotes
    ]
    return {"status": "live" if is_open else "closed", "data": data, "timestamp": now_iso}


def movers(quotes: Iterable[Quote], names: dict[str, str], limit: int = MOVERS_LIMIT) -> dict[str, list[dict]]:
    """`movers_update`: {gainers, losers, mostActive} from live quotes (vs previous close; by volume)."""
    quotes = [q for q in quotes if q.symbol in names and q.prev_close]
    gainers = heapq.nlargest(limit, (q for q in quotes if q.ltp > q.prev_close), key=lambda q: q.change_pct)
    losers = heapq.nsmallest(limit, (q for q in quotes if q.ltp < q.prev_close), key=lambda q: q.change_pct)
    active = heapq.nlargest(limit, quotes, key=lambda q: q.volume)
    return {
        "gainers": [_mover(q, names) for q in gainers],
        "losers": [_mover(q, names) for q in losers],
        "mostActive": [_mover(q, names) for q in active],
    }


def _mover(quote: Quote, names: dict[str, str]) -> dict[str, Any]:
    pct = float(quote.change_pct)
    return {
        "name": names[quote.symbol],
        "symbol": quote.symbol,
        "price": f"{quote.ltp:,.2f}",
        "change": f"{pct:+.2f}%",
        "priceNum": float(quote.ltp),
        "changePercentNum": round(pct, 2),
        "changeValueNum": round(float(quote.change_value), 2),
        "volume": quote.volume,
        "asOf": iso_ist(quote.as_of),
    }
