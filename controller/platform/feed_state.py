"""The leader's report on its market-data feed: mode, reason, and the exchange's own session status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from controller.sql import execute, fetch_one

_SAVE = """
INSERT INTO market_feed_state (provider, mode, reason, exchange_status, status_day, leader, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE mode = VALUES(mode), reason = VALUES(reason), exchange_status = VALUES(exchange_status),
    status_day = VALUES(status_day), leader = VALUES(leader), updated_at = VALUES(updated_at)
"""
_LOAD = """
SELECT mode, reason, exchange_status, status_day, leader, updated_at FROM market_feed_state WHERE provider = %s
"""


def save(
    conn: Any,
    provider: str,
    mode: str,
    reason: str | None,
    exchange_status: str | None,
    status_day: date | None,
    leader: str,
    updated_at: datetime,
) -> None:
    """Write the leader's current report (`updated_at` naive UTC)."""
    execute(conn, _SAVE, (provider, mode, reason, exchange_status, status_day, leader, updated_at))


def load(conn: Any, provider: str) -> dict[str, Any] | None:
    """The latest report for `provider`, or None."""
    return fetch_one(conn, _LOAD, (provider,))
