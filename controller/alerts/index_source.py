"""What the in-memory alert index is built from: the active alerts, what changed since a revision, the starting
prices of their instruments, tick sizes and 52-week ranges; plus the writer's sweeps (expiry, lost instruments)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.alerts.alerts import stamp_revision
from controller.sql import Pause, execute, fetch_all, fetch_value
from utils.timeutil import to_db

# The columns the index keeps, plus status (a row that is not active leaves the index).
INDEX_COLUMNS = "alert_id, instrument_type, symbol, kind, value, fire_if_already, times_triggered, status"
_STOCK_PRICES = """
SELECT s.symbol, s.tick_size, q.ltp, q.prev_close, q.volume
FROM stocks s LEFT JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.is_active = 1 AND s.symbol IN ({marks})
ORDER BY s.exchange = 'NSE'
"""
_INDEX_PRICES = """
SELECT i.name AS symbol, q.ltp, q.prev_close FROM indices i LEFT JOIN index_quotes q ON q.index_id = i.index_id
WHERE i.name IN ({marks})
"""
_WEEK52 = """
SELECT s.symbol, MAX(c.high) AS high, MIN(c.low) AS low
FROM stocks s JOIN stock_candles c ON c.stock_id = s.stock_id AND c.timeframe = '1d' AND c.ts >= %s AND c.ts < %s
WHERE s.is_active = 1 AND s.symbol IN ({marks})
GROUP BY s.symbol
"""
_LOST_STOCKS = """
SELECT DISTINCT a.symbol FROM alerts a
WHERE a.status = 'active' AND a.instrument_type = 'stock'
  AND NOT EXISTS (SELECT 1 FROM stocks s WHERE s.symbol = a.symbol AND s.is_active = 1)
"""
_LOST_INDICES = """
SELECT DISTINCT a.symbol FROM alerts a
WHERE a.status = 'active' AND a.instrument_type = 'index'
  AND NOT EXISTS (SELECT 1 FROM indices i WHERE i.name = a.symbol)
"""


def current_revision(conn: Any) -> int:
    """The revision of the newest committed alert change."""
    return int(fetch_value(conn, "SELECT revision FROM alert_revisions WHERE id = 1") or 0)


def index_named(conn: Any, name: str) -> str | None:
    """The index called `name` (case-insensitive), as the universe spells it; None when there is none."""
    return fetch_value(conn, "SELECT name FROM indices WHERE name = %s", (name,))


def active_alerts(conn: Any, after_id: int, limit: int, pause: Pause = None) -> list[dict[str, Any]]:
    """The next `limit` active alerts by id after `after_id`, with the columns the index keeps (a first load reads
    them a page at a time, so it never holds more than a page of rows)."""
    return fetch_all(
        conn,
        f"SELECT {INDEX_COLUMNS} FROM alerts WHERE status = 'active' AND alert_id > %s ORDER BY alert_id LIMIT %s",
        (after_id, limit),
        pause,
    )


def changed_alerts(conn: Any, after: int, upto: int) -> list[dict[str, Any]]:
    """The alerts whose last change has a revision in (after, upto]: add the active ones, drop the others."""
    return fetch_all(conn, f"SELECT {INDEX_COLUMNS} FROM alerts WHERE revision > %s AND revision <= %s", (after, upto))


def still_active(conn: Any, alert_ids: Sequence[int]) -> set[int]:
    """Which of these alerts are still active (the others left the index: fired elsewhere, or deleted)."""
    if not alert_ids:
        return set()
    rows = fetch_all(
        conn,
        f"SELECT alert_id FROM alerts WHERE status = 'active' AND alert_id IN ({_marks(alert_ids)})",
        list(alert_ids),
    )
    return set(_ids(rows))


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def stock_prices(conn: Any, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
    """symbol -> {tick_size, ltp, prev_close, volume} from the snapshot (quote columns None when unquoted)."""
    if not symbols:
        return {}
    rows = fetch_all(conn, _STOCK_PRICES.format(marks=_marks(symbols)), list(symbols))
    return {row["symbol"]: row for row in rows}  # ordered NSE last: the NSE listing wins


def index_prices(conn: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """index name -> {ltp, prev_close} from the snapshot."""
    if not names:
        return {}
    return {row["symbol"]: row for row in fetch_all(conn, _INDEX_PRICES.format(marks=_marks(names)), list(names))}


def week52_ranges(
    conn: Any, symbols: Sequence[str], since: datetime, until: datetime
) -> dict[str, tuple[Decimal, Decimal]]:
    """symbol -> (highest high, lowest low) of the daily candles from `since` up to `until` (excluded)."""
    if not symbols:
        return {}
    rows = fetch_all(conn, _WEEK52.format(marks=_marks(symbols)), [to_db(since), to_db(until), *symbols])
    return {row["symbol"]: (row["high"], row["low"]) for row in rows}


def lost_instruments(conn: Any) -> list[tuple[str, str]]:
    """(instrument_type, symbol) of active alerts whose instrument is no longer in the universe."""
    return [("stock", row["symbol"]) for row in fetch_all(conn, _LOST_STOCKS)] + [
        ("index", row["symbol"]) for row in fetch_all(conn, _LOST_INDICES)
    ]


def disable_for_instrument(conn: Any, instrument_type: str, symbol: str, reason: str, now: datetime) -> int:
    """Disable the active alerts on an instrument, saying why; how many."""
    ids = _ids(
        fetch_all(
            conn,
            "SELECT alert_id FROM alerts WHERE status = 'active' AND instrument_type = %s AND symbol = %s FOR UPDATE",
            (instrument_type, symbol),
        )
    )
    if ids:
        execute(
            conn,
            f"UPDATE alerts SET status = 'disabled', status_reason = %s, updated_at = %s "
            f"WHERE alert_id IN ({_marks(ids)})",
            [reason, to_db(now), *ids],
        )
        stamp_revision(conn, ids)
    return len(ids)


def expire_alerts(conn: Any, now: datetime) -> list[int]:
    """Mark the active alerts whose expiry has passed as expired; their ids."""
    ids = _ids(
        fetch_all(
            conn,
            "SELECT alert_id FROM alerts WHERE status = 'active' AND expires_at <= %s FOR UPDATE",
            (to_db(now),),
        )
    )
    if ids:
        execute(
            conn,
            f"UPDATE alerts SET status = 'expired', status_reason = NULL, updated_at = %s "
            f"WHERE alert_id IN ({_marks(ids)})",
            [to_db(now), *ids],
        )
        stamp_revision(conn, ids)
    return ids


def _ids(rows: Iterable[dict[str, Any]]) -> list[int]:
    return [int(row["alert_id"]) for row in rows]
