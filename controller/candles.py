"""Candle storage: bulk upserts of stock and index candles (1m and 1d)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from controller.sql import execute_many

_UPSERT_STOCK_CANDLES = """
INSERT INTO stock_candles (stock_id, timeframe, ts, open, high, low, close, volume)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE open = VALUES(open), high = VALUES(high), low = VALUES(low),
    close = VALUES(close), volume = VALUES(volume)
"""
_UPSERT_INDEX_CANDLES = """
INSERT INTO index_candles (index_id, timeframe, ts, open, high, low, close)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE open = VALUES(open), high = VALUES(high), low = VALUES(low), close = VALUES(close)
"""


def upsert_stock_candles(conn: Any, rows: Iterable[Sequence[Any]]) -> int:
    """Upsert (stock_id, timeframe, ts, open, high, low, close, volume) rows in multi-row batches."""
    return execute_many(conn, _UPSERT_STOCK_CANDLES, rows, batch_size=5000)


def upsert_index_candles(conn: Any, rows: Iterable[Sequence[Any]]) -> int:
    """Upsert (index_id, timeframe, ts, open, high, low, close) rows in multi-row batches."""
    return execute_many(conn, _UPSERT_INDEX_CANDLES, rows, batch_size=5000)
