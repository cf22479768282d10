"""Stock market data as the API serves it: detail, movers, search and sectors.

Database snapshots are cached by name (TTLs from the settings); live quotes are laid over per
request (detail, search) or when a cached result is computed (movers, sectors), by the rules of
`services.market.live_overlay`. Results are JSON-ready dicts, so a cache hit costs no reshaping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.market import stocks
from controller.market.stocks import MoverKind, StockQuote
from services.market import stock_search
from services.market.live_board import live_board
from services.market.live_overlay import (
    DATABASE,
    WEBSOCKET_CACHE,
    fresh_stock_quote,
    live_feed_active,
    overlay_enabled,
    overlay_stocks,
    provider_quote,
    with_stock_quote,
)
from services.market.live_price_cache import Quote
from services.market.market_clock import clock
from services.market.universe_snapshot import exchange_snapshot
from services.platform.cache_service import NamedCache, named_cache
from utils.errors import NotFound
from utils.quote_format import circuit_limits, display_change_pct, display_price, json_string, number, percent_change
from utils.timeutil import iso_ist

DEFAULT_EXCHANGE = "NSE"


def _settings() -> Any:
    return app_extensions()["settings"]


def _source(rows: list[StockQuote]) -> str:
    return WEBSOCKET_CACHE if any(row.source != DATABASE for row in rows) else DATABASE


def known_symbols() -> frozenset[str]:
    """Symbols of the active universe (cached), so unknown symbols are refused without a query."""

    def load() -> frozenset[str]:
        with db.connection() as conn:
            return stocks.active_symbols(conn)

    return named_cache("symbols", _settings().cache_ttl_universe_s, maxsize=1).get_or_load("all", load)


def stock_snapshot(symbol: str) -> StockQuote:
    """The database snapshot of one stock (cached); NotFound for an unknown symbol."""
    return _detail_entry(symbol)[0]


def _detail_entry(symbol: str) -> tuple[StockQuote, dict]:
    def load() -> tuple[StockQuote, dict]:
        if symbol not in known_symbols():  # failures are not cached: unknown symbols come back here
            raise NotFound(f"unknown symbol {symbol!r}")
        with db.connection() as conn:
            row = stocks.stock_by_symbol(conn, symbol)
        if row is None:
            raise NotFound(f"unknown symbol {symbol!r}")
        return row, detail_json(row, clock())

    return named_cache("stock_detail", _settings().cache_ttl_quotes_s, maxsize=4096).get_or_load(symbol, load)


def stock_detail(symbol: str, force_live: bool = False) -> dict:
    """Detail of one stock: live while the market is open and the cached quote is fresh; with
    `force_live`, a fresh cached quote at any hour, else the provider's answer, else the database."""
    row, payload = _detail_entry(symbol)
    quote, source = None, WEBSOCKET_CACHE
    if force_live or overlay_enabled():
        quote = fresh_stock_quote(row.symbol)
    if quote is None and force_live:
        answer = provider_quote(row.symbol)
        if answer is not None:
            quote, source = answer
    if quote is None:
        return payload
    return _live_detail(row, quote, source)


def _live_detail(row: StockQuote, quote: Quote, source: str) -> dict:
    """The detail with a live quote laid over, made once per quote: while the same quote is fresh (a tick a second)
    every request gets the same dict, so the same encoded response (`cached_json`), as a snapshot's detail is one
    dict for CACHE_TTL_QUOTES_S. Its `timestamp` is when it was made, as a snapshot's is when it was read."""
    made = named_cache("stock_detail_live", _settings().cache_ttl_quotes_s, maxsize=4096)
    known = made.get(row.symbol)
    if known is not None and known[0] is row and known[1] is quote and known[2] == source:
        return known[3]
    payload = detail_json(with_stock_quote(row, quote, source), clock())
    made.put(row.symbol, (row, quote, source, payload))
    return payload


def detail_json(row: StockQuote, timestamp: datetime) -> dict:
    """The API shape of a stock's detail; `timestamp` is when these numbers were read."""
    upper, lower = circuit_limits(row.prev_close, _settings().price_band_percent, row.tick_size)
    return {
        "stock_id": row.stock_id,
        "symbol": row.symbol,
        "companyName": row.company_name,
        "exchange": row.exchange,
        "sector": row.sector,
        "currentPrice": number(row.ltp),
        "previousClose": number(row.prev_close),
        "dayOpen": number(row.day_open),
        "dayHigh": number(row.day_high),
        "dayLow": number(row.day_low),
        "volume": row.volume,
        "changePercent": number(row.change_pct),
        "changeValue": number(row.change_value),
        "upperCircuit": number(upper),
        "lowerCircuit": number(lower),
        "week52High": number(row.week52_high),
        "week52Low": number(row.week52_low),
        "asOf": iso_ist(row.as_of),
        "tickSize": number(row.tick_size),
        "priceSource": row.source,
        "timestamp": iso_ist(timestamp),
    }


def mover_json(row: StockQuote, intraday: bool) -> dict:
    """The API shape of one movers row."""
    change_value, change_pct = row.change(intraday)
    return {
        "name": row.company_name,
        "symbol": row.symbol,
        "price": display_price(row.ltp),
        "change": display_change_pct(change_pct),
        "priceNum": number(row.ltp),
        "changePercentNum": number(change_pct),
        "changeValueNum": number(change_value),
        "volume": row.volume,
        "asOf": iso_ist(row.as_of),
    }


def compute_movers(kind: MoverKind, exchange: str, intraday: bool, limit: int) -> dict:
    """Movers from the snapshot table's indexes, or from the live board (kept per tick) while a live feed runs."""
    if live_feed_active():
        board = live_board(exchange)
        ranked = board.movers(kind, intraday, limit, clock(), _settings().live_cache_max_age_s)
    else:
        with db.connection() as conn:
            ranked = stocks.top_movers(conn, kind, exchange, intraday, limit)
    return {"rows": [mover_json(row, intraday) for row in ranked], "source": _source(ranked)}


def movers_key(kind: MoverKind, exchange: str, intraday: bool, limit: int) -> tuple:
    """The movers cache key (most active does not depend on `intraday`)."""
    return kind, exchange, intraday and kind not in ("active", "active_value"), limit


def _movers_cache() -> NamedCache:
    return named_cache("movers", _settings().cache_ttl_movers_s)


def movers(kind: MoverKind, exchange: str = DEFAULT_EXCHANGE, intraday: bool = False, limit: int = 10) -> dict:
    """`{rows, source}` for top gainers, losers or most active (cached for CACHE_TTL_MOVERS_S)."""
    key = movers_key(kind, exchange, intraday, limit)
    return _movers_cache().get_or_load(key, lambda: compute_movers(*key))


def refresh_default_movers(expired_only: bool = False) -> int:
    """Recompute the movers every dashboard asks for (default parameters; `expired_only`: those past their TTL);
    return how many lists."""
    keys = [movers_key(kind, DEFAULT_EXCHANGE, False, 10) for kind in ("gainers", "losers", "active")]
    for key in keys:
        _movers_cache().refresh(key, lambda key=key: compute_movers(*key), expired_only)
    return len(keys)


def movers_all(exchange: str = DEFAULT_EXCHANGE, intraday: bool = False, limit: int = 10) -> dict:
    """Gainers, losers and most active together (the same dict while the three lists are unchanged)."""
    parts = tuple(movers(kind, exchange, intraday, limit) for kind in ("gainers", "losers", "active"))
    composed = named_cache("movers_all", _settings().cache_ttl_movers_s)
    key = (exchange, intraday, limit)
    known = composed.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], parts, strict=True)):
        return known[1]
    live = any(part["source"] != DATABASE for part in parts)
    payload = {
        "gainers": parts[0]["rows"],
        "losers": parts[1]["rows"],
        "mostActive": parts[2]["rows"],
        "source": WEBSOCKET_CACHE if live else DATABASE,
    }
    composed.put(key, (parts, payload))
    return payload


def _search_row(row: StockQuote, live: Quote | None) -> bytes:
    """A search result as JSON, {symbol, companyName, exchange, currentPrice, changePercent}: the snapshot row's price,
    or the live quote's (the numbers `with_stock_quote` would lay over). Written directly: while the market is open a
    typeahead's rows are re-encoded after each tick of their quotes, and this costs ~2 µs against ~10 for laying the
    quote over and dumping a dict (docs/BENCHMARKS.md, search)."""
    ltp, prev_close = (row.ltp, row.prev_close) if live is None else (live.ltp, live.prev_close)
    return (
        f'{{"symbol":{json_string(row.symbol)},"companyName":{json_string(row.company_name)},'
        f'"exchange":{json_string(row.exchange)},"currentPrice":{number(ltp)!r},'
        f'"changePercent":{number(percent_change(ltp, prev_close))!r}}}'
    ).encode()


def search(query: str, limit: int) -> tuple[list[bytes], str]:
    """Search results as JSON rows (symbol prefix first, then company-name word prefixes) and their price source.
    Answered from the in-memory index each time (no response cache: a cache lookup and store cost more than the
    index's answer); each row is encoded once per snapshot or live quote."""
    rows, live = stock_search.search_results(query, limit, _search_row)
    return rows, WEBSOCKET_CACHE if live else DATABASE


def compute_sectors(exchange: str) -> dict:
    """Sector performance over the snapshot (with live quotes laid over while the market is open: from the live
    board's running sums while the feed is live)."""
    if live_feed_active():
        board = live_board(exchange)
        performance, live = board.sectors(clock(), _settings().live_cache_max_age_s)
    else:
        rows, live = overlay_stocks(exchange_snapshot(exchange))
        performance = stocks.sector_performance(rows)
    sectors = [
        {
            "sector": s.sector,
            "changePercent": number(s.change_pct),
            "advances": s.advances,
            "declines": s.declines,
            "count": s.count,
            "tradedValue": number(s.traded_value),
        }
        for s in performance
    ]
    return {"rows": sectors, "source": WEBSOCKET_CACHE if live else DATABASE}


def _sectors_cache() -> NamedCache:
    return named_cache("sectors", _settings().cache_ttl_sectors_s, maxsize=4)


def sectors(exchange: str = DEFAULT_EXCHANGE) -> dict:
    """`{rows, source}` of sector performance (cached for CACHE_TTL_SECTORS_S)."""
    return _sectors_cache().get_or_load(exchange, lambda: compute_sectors(exchange))


def sector_stocks(sector: str, exchange: str = DEFAULT_EXCHANGE) -> dict:
    """`{sector, rows, source}`: a sector's stocks in the movers' row shape, largest traded value first (live
    while the market is open; cached like the movers); NotFound for an unknown sector (never cached)."""

    def load() -> dict:
        rows, live = overlay_stocks(exchange_snapshot(exchange))
        members = stocks.sector_members(rows, sector)
        if members is None:
            raise NotFound(f"unknown sector {sector[:60]!r}")
        return {
            "sector": members[0].sector,
            "rows": [mover_json(row, intraday=False) for row in members],
            "source": WEBSOCKET_CACHE if live else DATABASE,
        }

    cache = named_cache("sector_stocks", _settings().cache_ttl_movers_s, maxsize=64)
    return cache.get_or_load((exchange, sector.strip().casefold()), load)


def refresh_sectors(expired_only: bool = False) -> int:
    """Recompute the default exchange's sector performance (`expired_only`: if past its TTL); return how many
    sectors."""
    sectors = _sectors_cache().refresh(DEFAULT_EXCHANGE, lambda: compute_sectors(DEFAULT_EXCHANGE), expired_only)
    return len(sectors["rows"])
