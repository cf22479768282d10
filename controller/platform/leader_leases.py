"""The leader lock (a MySQL named lock held by one connection) and the row saying who holds it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controller.sql import execute, fetch_one, fetch_value

_RECORD = """
INSERT INTO leader_leases (name, holder, connection_id, acquired_at) VALUES (%s, %s, CONNECTION_ID(), %s)
ON DUPLICATE KEY UPDATE holder = VALUES(holder), connection_id = VALUES(connection_id),
    acquired_at = VALUES(acquired_at)
"""
_CURRENT = "SELECT holder, acquired_at FROM leader_leases WHERE name = %s AND connection_id = IS_USED_LOCK(%s)"


def limit_idle_session(conn: Any, wait_timeout_s: int) -> None:
    """Let the server close this session after `wait_timeout_s` idle seconds (a dead leader's lock frees)."""
    execute(conn, "SET SESSION wait_timeout = %s", (wait_timeout_s,))


def try_acquire(conn: Any, name: str) -> bool:
    """Take the named lock if it is free (never waits); True when this connection now holds it."""
    return fetch_value(conn, "SELECT GET_LOCK(%s, 0)", (name,)) == 1


def holds(conn: Any, name: str) -> bool:
    """True while this connection holds the named lock."""
    return fetch_value(conn, "SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (name,)) == 1


def release(conn: Any, name: str) -> None:
    """Release the named lock if this connection holds it."""
    fetch_value(conn, "SELECT RELEASE_LOCK(%s)", (name,))


def record_holder(conn: Any, name: str, holder: str, acquired_at: datetime) -> None:
    """Write that `holder` (on this connection) holds the lock since `acquired_at` (naive UTC)."""
    execute(conn, _RECORD, (name, holder, acquired_at))


def current_holder(conn: Any, name: str) -> dict[str, Any] | None:
    """{holder, acquired_at} of the process holding the lock now, or None when nobody (known) does."""
    return fetch_one(conn, _CURRENT, (name, name))
