"""Socket.IO payloads (shapes as in docs/API.md) and the instrument directory they draw metadata from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from backend.extensions import app_extensions
from services.market.live_board import live_board
from services.market.live_price_cache import Quote
from services.market.market_clock import clock
from services.market.stock_views import DEFAULT_EXCHANGE, mover_json
from services.market_data.universe import load_universe
from utils.quote_format import json_string
from utils.timeutil import iso_ist

MOVERS_LIMIT = 10


@dataclass(frozen=True)
class Directory:
    """Instrument metadata the fan-out needs without touching the database per tick."""

    stock_ids: dict[str, int]
    index_tags: dict[str, str]
    index_order: tuple[str, ...]


def directory() -> Directory:
    """The current app's directory, read from the database once."""
    found = app_extensions().get("instrument_directory")
    if found is None:
        universe = load_universe()
        found = app_extensions()["instrument_directory"] = Directory(
            stock_ids={s.symbol: s.stock_id for s in universe.stocks},
            index_tags={i.name: i.tag for i in universe.indices},
            index_order=tuple(i.name for i in universe.indices),
        )
    return found


@lru_cache(maxsize=64)
def _iso(as_of: datetime) -> str | None:
    return iso_ist(as_of)  # a tick's quotes share one timestamp: format it once


def price_update_json(quote: Quote, stock_id: int | None) -> str:
    """`price_update` (and `prices_batch` item) as compact JSON text: {symbol, stock_id, ltp, change, change_pct, ...}.

    Prices are the cache's Decimals written as they are (a Decimal's text is a JSON number: "2441.50" is 2441.5 to
    any JSON reader); the change and percent are float arithmetic rounded to 2 places. Written directly: the fan-out
    encodes one per changed symbol per pass, and this costs under half of building and dumping a dict of floats
    (2.4 against 5.4 µs in process).
    """
    ltp, prev_close = float(quote.ltp), float(quote.prev_close)
    change = round(ltp - prev_close, 2)
    change_pct = round((ltp - prev_close) * 100 / prev_close, 2) if prev_close else 0.0
    as_of = _iso(quote.as_of)
    return (
        f'{{"symbol":{json_string(quote.symbol)},"stock_id":{"null" if stock_id is None else int(stock_id)},'
        f'"ltp":{quote.ltp},"change":{change!r},"change_pct":{change_pct!r},"day_open":{quote.day_open},'
        f'"day_high":{quote.day_high},"day_low":{quote.day_low},"prev_close":{quote.prev_close},'
        f'"volume":{int(quote.volume)},"as_of":{"null" if as_of is None else json_string(as_of)}}}'
    )


def price_update(quote: Quote, stock_id: int | None) -> dict[str, Any]:
    """`price_update` as a dict (a subscription's cached prices go out in its acknowledgement)."""
    return json.loads(price_update_json(quote, stock_id))


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


def movers(exchange: str = DEFAULT_EXCHANGE, limit: int = MOVERS_LIMIT) -> dict[str, list[dict]]:
    """`movers_update`: {gainers, losers, mostActive} of the exchange, vs previous close, most active by volume: the
    live board's ranking (as GET /movers: fresh live quotes laid over the snapshot), in GET /movers' row shape."""
    board = live_board(exchange)
    now, max_age = clock(), app_extensions()["settings"].live_cache_max_age_s
    return {
        key: [mover_json(row, False) for row in board.movers(kind, False, limit, now, max_age)]
        for key, kind in (("gainers", "gainers"), ("losers", "losers"), ("mostActive", "active"))
    }
