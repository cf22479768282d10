"""Reads of the latest-quote snapshot with instrument metadata (the realtime pipeline's starting point)."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all, fetch_value

_STOCKS = """
SELECT s.stock_id, s.symbol, s.company_name, s.sector, s.exchange, s.instrument_key, s.tick_size,
    q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.volume, q.as_of
FROM stocks s LEFT JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.is_active = 1
ORDER BY s.stock_id
"""
_INDICES = """
SELECT i.index_id, i.name, i.exchange, i.tag, i.instrument_key, i.display_order,
    q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.as_of
FROM indices i LEFT JOIN index_quotes q ON q.index_id = i.index_id
ORDER BY i.display_order, i.index_id
"""
_CONSTITUENTS = """
SELECT c.index_id, s.symbol, c.weight
FROM index_constituents c JOIN stocks s ON s.stock_id = c.stock_id
ORDER BY c.index_id, c.weight DESC, s.symbol
"""


def stocks_with_quotes(conn: Any) -> list[dict[str, Any]]:
    """Every active stock with its metadata and latest quote (quote columns None when it has none)."""
    return fetch_all(conn, _STOCKS)


def indices_with_quotes(conn: Any) -> list[dict[str, Any]]:
    """Every index with its metadata and latest quote, in display order."""
    return fetch_all(conn, _INDICES)


def index_constituents(conn: Any) -> list[dict[str, Any]]:
    """(index_id, symbol, weight) of every index member."""
    return fetch_all(conn, _CONSTITUENTS)


def newest_stock_quote_as_of(conn: Any) -> Any:
    """The as_of of the most recent stock quote (naive UTC), or None when there are none."""
    return fetch_value(conn, "SELECT MAX(as_of) AS newest FROM stock_quotes")
