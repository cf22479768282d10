"""Indices as the API serves them: one shape whether the levels are live or from the database."""

from __future__ import annotations

from backend import db
from backend.extensions import app_extensions
from controller.market import indices
from controller.market.indices import IndexQuote
from services.market.live_overlay import DATABASE, WEBSOCKET_CACHE, overlay_indices
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
    return named_cache("indices", app_extensions()["settings"].cache_ttl_indices_s, maxsize=1)


def _current() -> tuple[list[IndexQuote], list[dict], bool]:
    rows, shaped = _cache().get_or_load("all", _load)
    live_rows, live = overlay_indices(rows)
    if live:
        return live_rows, [index_json(row) for row in live_rows], True
    return rows, shaped, False


def refresh_indices() -> int:
    """Reload the index snapshot now; return how many indices."""
    return len(_cache().refresh("all", _load)[0])


def indices_all() -> dict:
    """`{source, market_status, data: {tag: [index, ...]}, totalIndices}` (the same dict while neither
    the snapshot nor the phase changes and nothing live is laid over)."""
    rows, shaped, live = _current()
    phase = status_now().phase
    composed = named_cache("indices_all", app_extensions()["settings"].cache_ttl_indices_s, maxsize=4)
    known = None if live else composed.get(phase)
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
    if not live:
        composed.put(phase, (shaped, payload))
    return payload


def index_detail(name: str) -> dict:
    """One index by name (case-insensitive); NotFound when unknown."""
    wanted = normalize_name(name)
    rows, shaped, _ = _current()
    for row, item in zip(rows, shaped, strict=True):
        if normalize_name(row.name) == wanted:
            return item
    raise NotFound(f"unknown index {name!r}")
