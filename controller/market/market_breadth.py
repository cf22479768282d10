"""Snapshot reads for market breadth and the simulator's mover headlines."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all

_QUOTES = """
SELECT s.symbol, q.ltp, q.prev_close, q.as_of
FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.is_active = 1 AND s.exchange = 'NSE'
"""
_MOVERS = """
SELECT s.stock_id, s.symbol, s.company_name, s.sector, q.ltp, q.prev_close, q.change_pct, q.as_of
FROM stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id
WHERE s.is_active = 1 AND s.exchange = 'NSE' AND q.change_pct {op} 0
ORDER BY q.change_pct {order}, s.symbol LIMIT %s
"""


def snapshot_quotes(conn: Any) -> list[dict[str, Any]]:
    """{symbol, ltp, prev_close, as_of} of every active NSE stock from the latest-quote table."""
    return fetch_all(conn, _QUOTES)


def top_movers(conn: Any, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `count` biggest gainers and losers vs the previous close (stock, company, sector, prices)."""
    gainers = fetch_all(conn, _MOVERS.format(op=">", order="DESC"), (count,))
    losers = fetch_all(conn, _MOVERS.format(op="<", order="ASC"), (count,))
    return gainers, losers
