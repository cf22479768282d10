"""Database readiness probe."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_value


def ping(conn: Any) -> bool:
    """True when the server answers a trivial query."""
    return fetch_value(conn, "SELECT 1") == 1
