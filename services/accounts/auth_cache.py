"""What the auth-state cache keeps per token id: the user's role/status and the revoked flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AuthState:
    """What the database says about a token's user and the token id."""

    user_id: int
    exists: bool
    role: str | None
    status: str | None
    revoked: bool

    @classmethod
    def from_row(cls, user_id: int, row: dict[str, Any] | None) -> AuthState:
        """From `controller.accounts.tokens.auth_state` (None: the user does not exist)."""
        if row is None:
            return cls(user_id, False, None, None, False)
        return cls(user_id, True, row["role"], row["status"], bool(row["revoked"]))
