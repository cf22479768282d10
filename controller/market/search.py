"""What the in-memory stock search (`utils.search_index`) ranks by besides the universe's snapshot rows: every active
stock's traded value, and the index memberships."""

from __future__ import annotations

from typing import Any

from controller.market.stocks import QUOTE_FROM
from controller.sql import Pause, fetch_all

_TRADED = f"SELECT s.stock_id, q.traded_value {QUOTE_FROM} WHERE s.is_active = 1"
_MEMBERSHIPS = """
SELECT c.stock_id, i.name FROM index_constituents c JOIN indices i ON i.index_id = c.index_id
"""


def traded_values(conn: Any, pause: Pause = None) -> dict[int, Any]:
    """stock_id → traded value of every active stock that has a quote."""
    return {row["stock_id"]: row["traded_value"] for row in fetch_all(conn, _TRADED, pause=pause)}


def index_memberships(conn: Any) -> dict[int, set[str]]:
    """stock_id → names of the indices it belongs to."""
    members: dict[int, set[str]] = {}
    for row in fetch_all(conn, _MEMBERSHIPS):
        members.setdefault(row["stock_id"], set()).add(row["name"])
    return members
