"""Intraday equity points (every account every few minutes while the market is open, one account at a fill) and the
equity curve that joins them to the daily closes of portfolio_snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import execute, execute_values, fetch_all
from controller.trading.portfolio import valued_accounts_insert
from utils.market_hours import session_close_utc
from utils.money import number
from utils.timeutil import IST, as_utc, iso_ist, to_db

_RECORD_ALL = valued_accounts_insert("equity_points", "ts")  # valued like the daily snapshot
_RECORD = """
INSERT INTO equity_points (user_id, ts, equity, cash, holdings_value) VALUES (%s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE equity = VALUES(equity), cash = VALUES(cash), holdings_value = VALUES(holdings_value)
"""
_POINTS = """
SELECT ts, equity, cash, holdings_value FROM equity_points WHERE user_id = %s AND ts >= %s ORDER BY ts
"""
_CLOSES = """
SELECT snapshot_date, equity, cash, holdings_value FROM portfolio_snapshots
WHERE user_id = %s AND snapshot_date >= %s ORDER BY snapshot_date
"""


def record_all(conn: Any, at: datetime) -> int:
    """An equity point at `at` (naive UTC) for every account; return the rows the server counted."""
    return execute(conn, _RECORD_ALL, (at,))[0]


def record(conn: Any, points: Sequence[tuple[int, datetime, Decimal, Decimal, Decimal]]) -> int:
    """(user_id, ts naive UTC, equity, cash, holdings_value) points, in one statement."""
    return execute_values(conn, _RECORD, points) if points else 0


def purge_before(conn: Any, before: datetime) -> int:
    """Delete the points older than `before` (naive UTC); return how many."""
    return execute(conn, "DELETE FROM equity_points WHERE ts < %s", (before,))[0]


def _point(at: datetime, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": iso_ist(at),
        "equity": number(row["equity"]),
        "cash": number(row["cash"]),
        "holdings_value": number(row["holdings_value"]),
    }


def equity_curve(conn: Any, user_id: int, since: datetime, daily: bool) -> list[dict[str, Any]]:
    """The user's equity from `since` (aware), oldest first, as [{time, equity, cash, holdings_value}].

    Intraday points only, or with `daily` the daily closes (timed at the session's close) followed by the intraday
    points after the last of them (or since `since` when there is none): a long range stays a point a day.
    """
    curve, after = [], since
    if daily:
        closes = fetch_all(conn, _CLOSES, (user_id, since.astimezone(IST).date()))
        curve = [_point(session_close_utc(row["snapshot_date"]), row) for row in closes]
        if closes:
            after = max(since, session_close_utc(closes[-1]["snapshot_date"]))
    points = fetch_all(conn, _POINTS, (user_id, to_db(after)))
    curve += [_point(as_utc(row["ts"]), row) for row in points if not daily or as_utc(row["ts"]) > after]
    return curve
