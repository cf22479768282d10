"""Token bookkeeping: revoked token ids (kept until they would have expired anyway) and the auth state."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from controller.sql import execute, fetch_one
from utils.timeutil import to_db

_REVOKE = """
INSERT INTO revoked_tokens (jti, user_id, token_type, expires_at) VALUES (%s, %s, %s, %s)
ON DUPLICATE KEY UPDATE jti = VALUES(jti)
"""
_AUTH_STATE = """
SELECT role, status, EXISTS(SELECT 1 FROM revoked_tokens WHERE jti = %s) AS revoked
FROM users WHERE user_id = %s
"""
_PURGE_BATCH = 5000


def revoke_token(
    conn: Any, jti: str, user_id: int, token_type: Literal["access", "refresh"], expires_at: datetime
) -> None:
    """Record a token id as revoked until `expires_at` (idempotent)."""
    execute(conn, _REVOKE, (jti, user_id, token_type, to_db(expires_at)))


def auth_state(conn: Any, user_id: int, jti: str) -> dict[str, Any] | None:
    """What the token check needs in one round trip: role, status and whether `jti` is revoked; None if no user."""
    return fetch_one(conn, _AUTH_STATE, (jti, user_id))


def purge_expired(conn: Any, now: datetime) -> int:
    """Delete revoked-token rows whose tokens have expired (in batches); return how many."""
    purged = 0
    while True:
        rowcount, _ = execute(
            conn, "DELETE FROM revoked_tokens WHERE expires_at < %s LIMIT %s", (to_db(now), _PURGE_BATCH)
        )
        purged += rowcount
        if rowcount < _PURGE_BATCH:
            return purged
