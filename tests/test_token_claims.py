"""Tokens signed with the app's key but missing a claim the checks rely on (exp, type, jti, sub) are refused
everywhere: HTTP, logout (no 500, nothing stored) and the Socket.IO connect."""

from __future__ import annotations

import time
import uuid

import jwt as pyjwt
import pytest

from backend.extensions import socketio
from controller.sql import fetch_value
from services.accounts import auth
from tests.auth_helpers import access_token, assert_error, bearer, make_user
from utils.errors import TokenInvalid


@pytest.fixture
def user_id(db_conn):
    return make_user(db_conn, "claims@example.com")


def signed(app, user_id: int, drop: str = "", **changes) -> str:
    """A token signed with the app's key, like the app's own access tokens, minus the claim `drop`."""
    now = int(time.time())
    claims = {"sub": str(user_id), "jti": str(uuid.uuid4()), "type": "access", "iat": now, "nbf": now}
    claims |= {"exp": now + 900, "fresh": False, **changes}
    claims.pop(drop, None)
    return pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


MALFORMED = [
    {"drop": "exp"},
    {"drop": "type"},
    {"drop": "jti"},
    {"drop": "sub"},
    {"type": "password-reset"},
    {"jti": 12345},
    {"jti": "x" * 65},
]


def test_a_token_with_every_claim_is_accepted(app, client, user_id):
    response = client.get("/auth/me", headers=bearer(signed(app, user_id)))
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("change", MALFORMED, ids=lambda c: "-".join(f"{k}={v}"[:20] for k, v in c.items()))
def test_tokens_missing_a_claim_are_refused(app, client, user_id, change):
    token = signed(app, user_id, **change)
    body = assert_error(client.get("/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED")
    assert body["error"]["details"]["reason"] == "token_invalid"
    with app.app_context(), pytest.raises(TokenInvalid):
        auth.verify_access_token(token)


@pytest.mark.parametrize("change", MALFORMED, ids=lambda c: "-".join(f"{k}={v}"[:20] for k, v in c.items()))
def test_logout_with_such_a_token_is_401_and_stores_nothing(app, client, db_conn, user_id, change):
    response = client.post("/auth/logout", headers=bearer(signed(app, user_id, **change)))
    assert_error(response, 401, "UNAUTHORIZED")
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM revoked_tokens") == 0


def test_logout_skips_such_a_refresh_token_in_the_body(app, client, db_conn, user_id):
    good = access_token(app, user_id)
    no_exp = signed(app, user_id, drop="exp", type="refresh")
    response = client.post("/auth/logout", headers=bearer(good), json={"refresh_token": no_exp})
    assert response.status_code == 200 and response.get_json()["data"]["revoked"] == ["access"]
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM revoked_tokens") == 1


@pytest.mark.parametrize("drop", ["exp", "type"])
def test_socketio_refuses_a_connection_with_such_a_token(app, user_id, drop):
    client = socketio.test_client(app, auth={"token": signed(app, user_id, drop=drop)})
    assert not client.is_connected()
