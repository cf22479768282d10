"""The one token check, shared by HTTP (flask-jwt-extended callbacks) and Socket.IO (`verify_access_token`).

A token is good when its signature and expiry hold, it is of the expected type, its id is not revoked,
and its user still exists and is active. Role and status always come from the database (through a
per-token cache of at most `AUTH_CACHE_TTL_S` ≤ 5 s), never from the token's claims. This process
forgets a cached entry at once when it revokes the token or an admin changes the user, so other
processes see such a change within the TTL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_current_user,
    jwt_required,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import ExpiredSignatureError, InvalidTokenError, MissingRequiredClaimError, PyJWTError

from backend import db
from backend.extensions import app_extensions, jwt
from backend.settings import Settings
from controller.accounts import tokens, users
from controller.accounts.users import User
from services.accounts.auth_cache import AuthState
from utils.errors import (
    AccountBlocked,
    Forbidden,
    NotFound,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UserGone,
)
from utils.locked_cache import LockedCache
from utils.timeutil import now_utc

F = TypeVar("F", bound=Callable[..., Any])

_AUTH_CACHE_ENTRIES = 10_000  # token ids whose auth state this process keeps
# Claims every check relies on: who (sub), which token (jti: revocation), what for (type) and until when (exp).
# flask-jwt-extended would default a missing type to "access" and a missing jti to None; PyJWT checks exp only
# when present. A token without them is refused, whoever signed it.
REQUIRED_CLAIMS = ("sub", "jti", "type", "exp")
TOKEN_TYPES = ("access", "refresh")
_MAX_JTI_LENGTH = 64  # revoked_tokens.jti


@dataclass(frozen=True, slots=True)
class AuthUser:
    """The signed-in user of the current request, as checked against the database."""

    user_id: int
    role: str

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == "admin"


def init_app(app: Flask, settings: Settings) -> None:
    """Create the app's auth-state cache and install the token callbacks of flask-jwt-extended."""
    app.extensions["auth_cache"] = LockedCache(_AUTH_CACHE_ENTRIES, settings.auth_cache_ttl_s)
    jwt.decode_key_loader(_decode_key)
    jwt.token_in_blocklist_loader(lambda _header, payload: _state(payload).revoked)
    jwt.user_lookup_loader(lambda _header, payload: active_user(payload))


def _decode_key(_header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The key that verifies a token, for tokens whose (still unverified) claims have what the checks rely on;
    others are refused before their signature is even checked (401 through flask-jwt-extended's handler)."""
    for claim in REQUIRED_CLAIMS:
        if claim not in claims:
            raise MissingRequiredClaimError(claim)
    jti = claims["jti"]
    if claims["type"] not in TOKEN_TYPES or not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI_LENGTH:
        raise InvalidTokenError("bad token type or id")
    return current_app.config["JWT_SECRET_KEY"]


def _cache() -> LockedCache:
    return app_extensions()["auth_cache"]


def _identity(payload: dict[str, Any]) -> tuple[int, str]:
    try:
        return int(payload["sub"]), str(payload["jti"])
    except (KeyError, TypeError, ValueError):
        raise TokenInvalid("Invalid token: bad subject or id") from None


def _state(payload: dict[str, Any]) -> AuthState:
    user_id, jti = _identity(payload)
    cache = _cache()
    state = cache.get(jti)
    if state is None:
        with db.connection() as conn:
            row = tokens.auth_state(conn, user_id, jti)
        state = AuthState.from_row(user_id, row)
        cache.put(jti, state)
    return state


def active_user(payload: dict[str, Any]) -> AuthUser:
    """The token's user if they exist and are active; UserGone (401) or AccountBlocked (403) otherwise."""
    state = _state(payload)
    if not state.exists:
        raise UserGone()
    if state.status != "active":
        raise AccountBlocked()
    return AuthUser(state.user_id, state.role or "user")


@dataclass(frozen=True, slots=True)
class TokenSession:
    """Whom a verified access token speaks for, and which token it is (a logout ends the sessions of its id)."""

    user_id: int
    jti: str


def verify_access_token(token: str) -> TokenSession:
    """Check an encoded access token completely (Socket.IO connect); return its user and id or raise 401/403."""
    if not isinstance(token, str) or not token or not token.isascii():
        raise TokenInvalid("Invalid token: expected a non-empty ASCII string")
    try:
        payload = decode_token(token)
    except ExpiredSignatureError:
        raise TokenExpired() from None
    except (PyJWTError, JWTExtendedException) as exc:
        raise TokenInvalid(f"Invalid token: {exc}") from None
    if payload.get("type") != "access":
        raise TokenInvalid("Invalid token: an access token is required")
    if _state(payload).revoked:
        raise TokenRevoked()
    return TokenSession(active_user(payload).user_id, str(payload["jti"]))


def current_user() -> AuthUser:
    """The signed-in user of this request (inside a `jwt_required` view)."""
    return get_current_user()


def current_user_id() -> int:
    """The signed-in user's id (inside a `jwt_required` view)."""
    return current_user().user_id


def is_admin(user_id: int) -> bool:
    """Whether the user's role, read from the database now, is admin (a Socket.IO connection joins `admins`)."""
    try:
        with db.connection() as conn:
            return users.get_user(conn, user_id).role == "admin"
    except NotFound:  # deleted since its token was checked
        return False


def admin_required(fn: F) -> F:
    """View decorator: a valid access token of an active user whose role (from the database) is admin."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            raise Forbidden("Administrator role required")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def issue_tokens(user: User) -> dict[str, Any]:
    """A new access token and refresh token for `user` (`sub` = the user id as a string)."""
    return {**issue_access_token(user.user_id, user.role), "refresh_token": create_refresh_token(str(user.user_id))}


def issue_access_token(user_id: int, role: str) -> dict[str, Any]:
    """A new access token (with an informative `role` claim; the server never trusts it)."""
    settings: Settings = app_extensions()["settings"]
    return {
        "access_token": create_access_token(str(user_id), additional_claims={"role": role}),
        "token_type": "Bearer",
        "expires_in": settings.jwt_access_token_expires_s,
    }


def revoke(payload: dict[str, Any]) -> None:
    """Revoke a decoded token until its expiry; this process stops accepting it at once."""
    user_id, jti = _identity(payload)
    expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    with db.connection() as conn:
        tokens.revoke_token(conn, jti, user_id, payload["type"], expires_at)
    _cache().pop(jti)


def revoke_encoded(token: str, user_id: int) -> str | None:
    """Revoke another token of the caller (logout's `refresh_token`); return its type, or None when it is not
    a live token (malformed, badly signed or expired tokens are useless already). Forbidden if it is not theirs."""
    try:
        payload = decode_token(token)
    except (PyJWTError, JWTExtendedException):
        return None
    if _identity(payload)[0] != user_id:
        raise Forbidden("refresh_token belongs to another user")
    revoke(payload)
    return payload["type"]


def forget_user(user_id: int) -> None:
    """Drop this process's cached auth state of a user (after an admin changes or deletes them)."""
    _cache().discard_if(lambda _jti, state: state.user_id == user_id)


def clear_auth_cache() -> None:
    """Forget every cached auth state (tests)."""
    _cache().clear()


def purge_revoked_tokens(now: datetime | None = None) -> int:
    """Delete revoked-token rows that have expired anyway (a scheduler job); return how many."""
    with db.connection() as conn:
        return tokens.purge_expired(conn, now or now_utc())
