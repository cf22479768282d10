"""The instrument universe: stocks, indices and index constituents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controller.sql import execute, execute_many, fetch_all, fetch_value

_UPSERT_STOCK = """
INSERT INTO stocks (symbol, exchange, isin, instrument_key, company_name, sector, tick_size, lot_size)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE isin = VALUES(isin), instrument_key = VALUES(instrument_key),
    company_name = VALUES(company_name), sector = VALUES(sector),
    tick_size = VALUES(tick_size), lot_size = VALUES(lot_size)
"""
_UPSERT_INDEX = """
INSERT INTO indices (name, exchange, tag, instrument_key, display_order) VALUES (%s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE exchange = VALUES(exchange), tag = VALUES(tag),
    instrument_key = VALUES(instrument_key), display_order = VALUES(display_order)
"""


def upsert_stocks(conn: Any, rows: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Insert or update stocks (symbol, exchange, isin, key, company, sector, tick, lot); map symbol→id."""
    execute_many(conn, _UPSERT_STOCK, rows, batch_size=1000)
    exchanges = sorted({row[1] for row in rows})
    if not exchanges:
        return {}
    marks = ", ".join(["%s"] * len(exchanges))
    found = fetch_all(conn, f"SELECT symbol, stock_id FROM stocks WHERE exchange IN ({marks})", exchanges)
    return {row["symbol"]: row["stock_id"] for row in found}


def upsert_indices(conn: Any, rows: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Insert or update indices (name, exchange, tag, instrument_key, display_order); map name→id."""
    execute_many(conn, _UPSERT_INDEX, rows)
    return {row["name"]: row["index_id"] for row in fetch_all(conn, "SELECT name, index_id FROM indices")}


def replace_constituents(conn: Any, index_id: int, members: Sequence[tuple[int, Any]]) -> None:
    """Make (stock_id, weight) pairs the exact constituent list of an index."""
    execute(conn, "DELETE FROM index_constituents WHERE index_id = %s", (index_id,))
    execute_many(
        conn,
        "INSERT INTO index_constituents (index_id, stock_id, weight) VALUES (%s, %s, %s)",
        [(index_id, stock_id, weight) for stock_id, weight in members],
    )


def count_stocks(conn: Any) -> int:
    """How many stocks the universe holds."""
    return int(fetch_value(conn, "SELECT COUNT(*) AS n FROM stocks") or 0)
