"""The provider's access token an administrator stored (encrypted; the plaintext never reaches the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controller.sql import execute, fetch_one

_SAVE = """
INSERT INTO provider_tokens (provider, token_encrypted, set_by, set_at) VALUES (%s, %s, %s, %s)
ON DUPLICATE KEY UPDATE token_encrypted = VALUES(token_encrypted), set_by = VALUES(set_by), set_at = VALUES(set_at)
"""
_LOAD = "SELECT token_encrypted, set_by, set_at FROM provider_tokens WHERE provider = %s"


def save(conn: Any, provider: str, encrypted: bytes, set_by: int | None, set_at: datetime) -> None:
    """Store (or replace) the provider's encrypted token; `set_at` is naive UTC."""
    execute(conn, _SAVE, (provider, encrypted, set_by, set_at))


def load(conn: Any, provider: str) -> dict[str, Any] | None:
    """{token_encrypted, set_by, set_at} of the provider's stored token, or None."""
    return fetch_one(conn, _LOAD, (provider,))
