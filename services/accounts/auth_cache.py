"""The auth-state cache: per token id, the user's role/status and the revoked flag, for a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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


class AuthStateCache:
    """A small TTL map jti → AuthState with a lock; a TTL of 0 disables it."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, AuthState]] = {}
        self._lock = threading.Lock()

    def get(self, jti: str) -> AuthState | None:
        """The cached state of a token id, or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(jti)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[jti]
                return None
            return entry[1]

    def put(self, jti: str, state: AuthState) -> None:
        """Remember a state for TTL seconds."""
        if self.ttl_s <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[jti] = (now + self.ttl_s, state)

    def forget_token(self, jti: str) -> None:
        """Drop one token id."""
        with self._lock:
            self._entries.pop(jti, None)

    def forget_user(self, user_id: int) -> None:
        """Drop every token id of one user."""
        with self._lock:
            self._entries = {key: entry for key, entry in self._entries.items() if entry[1].user_id != user_id}

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._entries.clear()
