"""The Upstox access token every process uses: the one an administrator stored, else UPSTOX_ACCESS_TOKEN.

Upstox tokens expire daily. An administrator sets a new one at run time (POST /admin/provider/token);
it is stored in MySQL encrypted with Fernet (`cryptography`) under PROVIDER_TOKEN_KEY, so every process,
and whichever process leads next, reads the same token, and it wins over the environment's. Each process
re-reads it every `ttl_s` (and at once after a refusal, `refresh`). The token is never logged: logs and
/healthz name it by its source and a short fingerprint.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from mysql.connector import Error as MySQLError

from backend import db
from controller.platform import provider_tokens
from utils.errors import ServiceUnavailable
from utils.timeutil import as_utc, now_utc, to_db

log = logging.getLogger(__name__)
PROVIDER = "upstox"
TTL_S = 30.0


def fingerprint(token: str) -> str:
    """A short, one-way name for a token (logs and health show this, never the token)."""
    return hashlib.sha256(token.encode()).hexdigest()[:10] if token else ""


class ProviderTokens:
    """The current token of the provider, from the database (when PROVIDER_TOKEN_KEY is set) or the environment."""

    def __init__(
        self, env_token: str, key: str | None, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.env_token = env_token
        self.fernet = Fernet(key.encode()) if key else None
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._token = env_token
        self._source = "environment" if env_token else "none"
        self._read_at: float | None = None
        self._unreadable: datetime | None = None  # the stored row that did not decrypt (logged once)

    @property
    def can_store(self) -> bool:
        """Whether a token can be stored (PROVIDER_TOKEN_KEY is set)."""
        return self.fernet is not None

    def current(self) -> str:
        """The token to use now (re-read from the database at most every `ttl_s`); "" when there is none."""
        read_at = self._read_at
        if read_at is not None and self.clock() - read_at < self.ttl_s:
            return self._token
        return self.refresh()

    def source(self) -> str:
        """Where the current token comes from: "database", "environment" or "none"."""
        return self._source

    def refresh(self) -> str:
        """Read the stored token now (needs an app context); keep the known one if the database does not answer."""
        if self.fernet is None:
            self._read_at = self.clock()
            return self._token
        try:
            with db.connection() as conn:
                row = provider_tokens.load(conn, PROVIDER)
        except (ServiceUnavailable, MySQLError) as exc:  # the pool logs the outage
            log.debug("provider token not re-read (%s); keeping the current one", exc.__class__.__name__)
            return self._token
        token = self._decrypt(row) if row else None
        with self._lock:
            self._token, self._source = (token, "database") if token else (self.env_token, self._env_source())
            self._read_at = self.clock()
            return self._token

    def store(self, token: str, set_by: int | None) -> datetime:
        """Encrypt and store `token` for every process; this process uses it at once. Returns when it was set."""
        if self.fernet is None:
            raise RuntimeError("PROVIDER_TOKEN_KEY is not set")
        set_at = now_utc()
        with db.transaction() as conn:
            provider_tokens.save(conn, PROVIDER, self.fernet.encrypt(token.encode()), set_by, to_db(set_at))
        with self._lock:
            self._token, self._source, self._read_at = token, "database", self.clock()
        log.info("provider token %s stored by user %s", fingerprint(token), set_by)
        return set_at

    def _env_source(self) -> str:
        return "environment" if self.env_token else "none"

    def _decrypt(self, row: dict) -> str | None:
        try:
            return self.fernet.decrypt(bytes(row["token_encrypted"])).decode()
        except InvalidToken:
            set_at = as_utc(row["set_at"])
            if self._unreadable != set_at:
                self._unreadable = set_at
                log.warning(
                    "the stored provider token (set %s) does not decrypt with PROVIDER_TOKEN_KEY; "
                    "using UPSTOX_ACCESS_TOKEN until a new one is set",
                    set_at.isoformat(timespec="seconds"),
                )
            return None
