"""Bulk reads for the scan process's daily panel: the instruments and their daily candles as compact text.

The pure-Python driver decodes ~50 µs a row, so a million candles row by row would take the best part of a
minute. Here the server packs each instrument's candles into one comma-separated string (GROUP_CONCAT, ordered
by day), so a million candles arrive as a few thousand rows that numpy parses in one pass (services/scans/
panel_loader.py). Days are sent as days since 1970-01-01.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controller.sql import execute, fetch_all, fetch_one

_EPOCH_TO_DAYS = 719528  # TO_DAYS('1970-01-01')
CANDLE_COLUMNS = ("day", "open", "high", "low", "close", "volume")
_INSTRUMENTS = """
SELECT stock_id, symbol, company_name, sector FROM stocks WHERE is_active = 1 ORDER BY stock_id
"""
_FINGERPRINT = """
SELECT COUNT(*) AS candles, COUNT(DISTINCT stock_id) AS instruments, MIN(ts) AS first_ts, MAX(ts) AS last_ts
FROM stock_candles WHERE timeframe = '1d'
"""


def prepare(conn: Any) -> None:
    """Let one GROUP_CONCAT hold an instrument's whole history (the default cuts it at 1 KiB)."""
    execute(conn, "SET SESSION group_concat_max_len = 1073741824")


def instruments(conn: Any) -> list[dict[str, Any]]:
    """Every active instrument: stock_id, symbol, company_name, sector."""
    return fetch_all(conn, _INSTRUMENTS)


def fingerprint(conn: Any) -> dict[str, Any]:
    """Daily candle count, instruments with daily candles, first and last candle time: changes when candles do."""
    return fetch_one(conn, _FINGERPRINT) or {}


def candles_text(conn: Any, stock_ids: Sequence[int], since: Any = None) -> list[dict[str, Any]]:
    """Per instrument: stock_id, n (candles) and v: 'day,open,high,low,close,volume,day,...' oldest first."""
    if not stock_ids:
        return []
    marks = ", ".join(["%s"] * len(stock_ids))
    since_sql = " AND ts >= %s" if since is not None else ""
    sql = (
        f"SELECT stock_id, COUNT(*) AS n, GROUP_CONCAT(CONCAT_WS(',', TO_DAYS(ts) - {_EPOCH_TO_DAYS}, open, high, "
        f"low, close, volume) ORDER BY ts SEPARATOR ',') AS v FROM stock_candles "
        f"WHERE stock_id IN ({marks}) AND timeframe = '1d'{since_sql} GROUP BY stock_id ORDER BY stock_id"
    )
    return fetch_all(conn, sql, (*stock_ids, *([since] if since is not None else [])))
