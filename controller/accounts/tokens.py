"""Token bookkeeping: revoked token ids (kept until they would have expired anyway) and the auth state."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal

from controller.sql import execute, fetch_one, fetch_sets
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


def session_states(conn: Any, user_ids: Collection[int], jtis: Collection[str]) -> tuple[dict[int, str], set[str]]:
    """For the signed-in sockets' check, in one round trip: the status of each of `user_ids` that still exists,
    and which of `jtis` are revoked."""
    if not user_ids or not jtis:
        return {}, set()
    users_in, jtis_in = ", ".join(["%s"] * len(user_ids)), ", ".join(["%s"] * len(jtis))
    users, revoked = fetch_sets(
        conn,
        [
            (f"SELECT user_id, status FROM users WHERE user_id IN ({users_in})", tuple(user_ids)),
            (f"SELECT jti FROM revoked_tokens WHERE jti IN ({jtis_in})", tuple(jtis)),
        ],
    )
    return {row["user_id"]: row["status"] for row in users}, {row["jti"] for row in revoked}


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
