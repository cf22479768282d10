"""Indices as the API serves them: one shape whether the levels are live or from the database."""

from __future__ import annotations

from backend import db
from backend.extensions import app_extensions
from controller.market import indices
from controller.market.indices import IndexQuote
from services.market.live_overlay import DATABASE, WEBSOCKET_CACHE, fresh_index_quotes, with_index_quote
from services.market.market_clock import status_now
from services.platform.cache_service import NamedCache, named_cache
from utils.errors import NotFound
from utils.quote_format import direction, display_change, display_change_pct, display_price, number
from utils.timeutil import iso_ist


def index_json(row: IndexQuote) -> dict:
    """The API shape of one index: display strings beside their numbers, as the existing dashboard clients read
    them (`value` "26,072.29" and `valueNum` 26072.29; `change` "+0.24%"; `changeValue` "+62.08")."""
    return {
        "name": row.name,
        "value": display_price(row.ltp),
        "valueNum": number(row.ltp),
        "open": display_price(row.day_open),
        "high": display_price(row.day_high),
        "low": display_price(row.day_low),
        "prevClose": display_price(row.prev_close),
        "change": display_change_pct(row.change_pct),
        "changeValue": display_change(row.change_value),
        "changePercentNum": number(row.change_pct),
        "changeValueNum": number(row.change_value),
        "direction": direction(row.change_value),
        "tag": row.tag,
        "lastUpdated": iso_ist(row.as_of),
    }


def normalize_name(name: str) -> str:
    """Index names compare case-insensitively, with `_`, `-` and runs of spaces as one space."""
    return " ".join(name.replace("_", " ").replace("-", " ").upper().split())


def _load() -> tuple[list[IndexQuote], list[dict]]:
    with db.connection() as conn:
        rows = indices.all_index_quotes(conn)
    return rows, [index_json(row) for row in rows]


def _cache() -> NamedCache:
    return named_cache("indices", _ttl_s(), maxsize=1)


def _ttl_s() -> float:
    return app_extensions()["settings"].cache_ttl_indices_s


def _current() -> tuple[list[IndexQuote], list[dict], bool]:
    """The index rows and their API shapes, with fresh live levels laid over while the market is open, and whether
    any was. The live rows are laid over and shaped once per set of live quotes: while the same quotes are fresh
    (a tick a second) every request gets the same lists, and so the same encoded response (`cached_json`)."""
    rows, shaped = _cache().get_or_load("all", _load)
    quotes = fresh_index_quotes(rows)
    if quotes is None or not any(quotes):
        return rows, shaped, False
    laid_over = named_cache("indices_live", _ttl_s(), maxsize=1)
    known = laid_over.get("all")
    if known is not None and known[0] is shaped and all(a is b for a, b in zip(known[1], quotes, strict=True)):
        return known[2]
    live_rows = [
        row if quote is None else with_index_quote(row, quote) for row, quote in zip(rows, quotes, strict=True)
    ]
    current = (live_rows, [index_json(row) for row in live_rows], True)
    laid_over.put("all", (shaped, quotes, current))
    return current


def refresh_indices(expired_only: bool = False) -> int:
    """Reload the index snapshot now (`expired_only`: if past its TTL); return how many indices."""
    return len(_cache().refresh("all", _load, expired_only)[0])


def indices_all() -> dict:
    """`{source, market_status, data: {tag: [index, ...]}, totalIndices}` (the same dict while neither the snapshot,
    the phase nor the live quotes laid over change)."""
    rows, shaped, live = _current()
    phase = status_now().phase
    composed = named_cache("indices_all", _ttl_s(), maxsize=4)
    known = composed.get((phase, live))
    if known is not None and known[0] is shaped:
        return known[1]
    grouped: dict[str, list[dict]] = {}
    for row, item in zip(rows, shaped, strict=True):
        grouped.setdefault(row.tag, []).append(item)
    payload = {
        "source": WEBSOCKET_CACHE if live else DATABASE,
        "market_status": phase,
        "data": grouped,
        "totalIndices": len(rows),
    }
    composed.put((phase, live), (shaped, payload))
    return payload


def index_detail(name: str) -> dict:
    """One index by name (case-insensitive); NotFound when unknown."""
    wanted = normalize_name(name)
    rows, shaped, _ = _current()
    for row, item in zip(rows, shaped, strict=True):
        if normalize_name(row.name) == wanted:
            return item
    raise NotFound(f"unknown index {name!r}")
