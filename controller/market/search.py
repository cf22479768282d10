"""What the in-memory stock search (`utils.search_index`) is built from: every active quoted stock with its
snapshot quote and traded value, and the index memberships that rank it."""

from __future__ import annotations

from typing import Any

from controller.market.stocks import QUOTE_COLUMNS, QUOTE_FROM, StockQuote, quote_from_row
from controller.sql import Pause, fetch_all

_QUOTES = f"SELECT {QUOTE_COLUMNS}, q.traded_value {QUOTE_FROM} WHERE s.is_active = 1 ORDER BY s.stock_id"
_MEMBERSHIPS = """
SELECT c.stock_id, i.name FROM index_constituents c JOIN indices i ON i.index_id = c.index_id
"""


def searchable_quotes(conn: Any, pause: Pause = None) -> list[tuple[StockQuote, Any]]:
    """(snapshot quote, traded value) of every active stock that has a quote, by stock id."""
    result = []
    for n, row in enumerate(fetch_all(conn, _QUOTES, pause=pause), 1):
        traded_value = row.pop("traded_value")
        result.append((quote_from_row(row), traded_value))
        if pause is not None and n % 250 == 0:
            pause()
    return result


def index_memberships(conn: Any) -> dict[int, set[str]]:
    """stock_id → names of the indices it belongs to."""
    members: dict[int, set[str]] = {}
    for row in fetch_all(conn, _MEMBERSHIPS):
        members.setdefault(row["stock_id"], set()).add(row["name"])
    return members
