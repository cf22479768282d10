"""Helpers for tests that need users and tokens without going through the (slow on purpose) scrypt routes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from flask import Flask
from flask_jwt_extended import create_access_token, create_refresh_token

from utils.passwords import hash_password

PASSWORD = "correct horse battery"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """The scrypt hash of PASSWORD, computed once per session."""
    return hash_password(PASSWORD)


def make_user(
    conn,
    email: str = "user@example.com",
    *,
    name: str = "Test User",
    role: str = "user",
    status: str = "active",
    password: bool = True,
    google_sub: str | None = None,
    cash: Decimal = Decimal("100000"),
) -> int:
    """Insert a user (password PASSWORD unless password=False) with a paper account; return the id."""
    cursor = conn.cursor()
    cursor.execute(
        "INSERT INTO users (email, name, password_hash, google_sub, role, status) VALUES (%s, %s, %s, %s, %s, %s)",
        (email, name, password_hash() if password else None, google_sub, role, status),
    )
    user_id = cursor.lastrowid
    cursor.execute("INSERT INTO accounts (user_id, cash, starting_cash) VALUES (%s, %s, %s)", (user_id, cash, cash))
    cursor.close()
    return user_id


def access_token(app: Flask, user_id: int, role: str = "user", expires: timedelta | None = None) -> str:
    """An access token for `user_id` signed with the app's key."""
    with app.app_context():
        return create_access_token(str(user_id), additional_claims={"role": role}, expires_delta=expires)


def refresh_token(app: Flask, user_id: int, expires: timedelta | None = None) -> str:
    """A refresh token for `user_id` signed with the app's key."""
    with app.app_context():
        return create_refresh_token(str(user_id), expires_delta=expires)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, code: str) -> dict:
    """Assert the API's error envelope with this status and code; return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "error" and body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body
