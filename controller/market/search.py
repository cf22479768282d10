"""What the in-memory stock search (`utils.search_index`) ranks by besides the universe's snapshot rows: the index
memberships."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all

_MEMBERSHIPS = """
SELECT c.stock_id, i.name FROM index_constituents c JOIN indices i ON i.index_id = c.index_id
"""


def index_memberships(conn: Any) -> dict[int, set[str]]:
    """stock_id → names of the indices it belongs to."""
    members: dict[int, set[str]] = {}
    for row in fetch_all(conn, _MEMBERSHIPS):
        members.setdefault(row["stock_id"], set()).add(row["name"])
    return members
