"""Latest-quote snapshot tables: one row per stock and per index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from controller.sql import Pause, execute_many, execute_values

_UPSERT_STOCK_QUOTES = """
INSERT INTO stock_quotes (stock_id, ltp, prev_close, day_open, day_high, day_low, volume,
    week52_high, week52_low, as_of, source)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE ltp = VALUES(ltp), prev_close = VALUES(prev_close), day_open = VALUES(day_open),
    day_high = VALUES(day_high), day_low = VALUES(day_low), volume = VALUES(volume),
    week52_high = VALUES(week52_high), week52_low = VALUES(week52_low), as_of = VALUES(as_of),
    source = VALUES(source)
"""
_UPSERT_INDEX_QUOTES = """
INSERT INTO index_quotes (index_id, ltp, prev_close, day_open, day_high, day_low, as_of, source)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE ltp = VALUES(ltp), prev_close = VALUES(prev_close), day_open = VALUES(day_open),
    day_high = VALUES(day_high), day_low = VALUES(day_low), as_of = VALUES(as_of), source = VALUES(source)
"""


def upsert_stock_quotes(conn: Any, rows: Iterable[Sequence[Any]]) -> int:
    """Upsert full stock quote rows (stock_id, ltp, prev_close, open, high, low, volume, 52w hi/lo, as_of, source)."""
    return execute_many(conn, _UPSERT_STOCK_QUOTES, rows)


def upsert_index_quotes(conn: Any, rows: Iterable[Sequence[Any]]) -> int:
    """Upsert index quote rows (index_id, ltp, prev_close, open, high, low, as_of, source)."""
    return execute_many(conn, _UPSERT_INDEX_QUOTES, rows)


# The tick writer's upserts: one multi-row statement per batch. The 52-week range only widens
# (GREATEST/LEAST with the day's range), so the seed's history-derived values are kept.
_UPSERT_LIVE_STOCK_QUOTES = """
INSERT INTO stock_quotes (stock_id, ltp, prev_close, day_open, day_high, day_low, volume, as_of, source)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE ltp = VALUES(ltp), prev_close = VALUES(prev_close), day_open = VALUES(day_open),
    day_high = VALUES(day_high), day_low = VALUES(day_low), volume = VALUES(volume), as_of = VALUES(as_of),
    source = VALUES(source),
    week52_high = GREATEST(COALESCE(week52_high, VALUES(day_high)), VALUES(day_high)),
    week52_low = LEAST(COALESCE(week52_low, VALUES(day_low)), VALUES(day_low))
"""


def upsert_live_stock_quotes(conn: Any, rows: Sequence[Sequence[Any]], pause: Pause = None) -> int:
    """Upsert (stock_id, ltp, prev_close, open, high, low, volume, as_of, source) rows in ONE statement.

    The day's high/low also widen the stored 52-week high/low; `pause` yields while it is built.
    """
    return execute_values(conn, _UPSERT_LIVE_STOCK_QUOTES, rows, pause)


def upsert_live_index_quotes(conn: Any, rows: Sequence[Sequence[Any]], pause: Pause = None) -> int:
    """Upsert (index_id, ltp, prev_close, open, high, low, as_of, source) rows in ONE statement."""
    return execute_values(conn, _UPSERT_INDEX_QUOTES, rows, pause)
