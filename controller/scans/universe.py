"""What a scan can cover: the active instruments' symbols and sectors."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all


def symbols_and_sectors(conn: Any) -> list[dict[str, Any]]:
    """Every active instrument's symbol and sector."""
    return fetch_all(conn, "SELECT symbol, sector FROM stocks WHERE is_active = 1")
