"""The token matrix over HTTP and the shared check used by Socket.IO: type, signature, expiry, revocation,
blocked and deleted users, refresh, logout, the auth-state cache and the purge of revoked ids."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest

from controller.sql import fetch_all, fetch_value
from services.accounts import auth
from tests.auth_helpers import access_token, assert_error, bearer, make_user, refresh_token
from utils.errors import AccountBlocked, TokenExpired, TokenInvalid, TokenRevoked, UserGone
from utils.locked_cache import LockedCache


@pytest.fixture
def user_id(db_conn):
    return make_user(db_conn, "trader@example.com")


@pytest.fixture
def tokens(app, user_id):
    return {"access": access_token(app, user_id), "refresh": refresh_token(app, user_id)}


def _reason(response):
    return response.get_json()["error"].get("details", {}).get("reason")


def _tampered_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_valid_access_token(client, tokens, user_id):
    response = client.get("/auth/me", headers=bearer(tokens["access"]))
    assert response.status_code == 200 and response.get_json()["data"]["user"]["user_id"] == user_id


def test_access_token_claims(app, tokens, user_id):
    claims = pyjwt.decode(tokens["access"], options={"verify_signature": False})
    assert claims["sub"] == str(user_id) and claims["type"] == "access" and claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 900
    refresh = pyjwt.decode(tokens["refresh"], options={"verify_signature": False})
    assert refresh["type"] == "refresh" and refresh["exp"] - refresh["iat"] == 30 * 86400


@pytest.mark.parametrize(
    "headers,reason",
    [
        ({}, "token_missing"),
        ({"Authorization": ""}, "token_missing"),
        ({"Authorization": "Token abc"}, "token_missing"),
        ({"Authorization": "Bearer"}, "token_invalid"),
        ({"Authorization": "Bearer not-a-jwt"}, "token_invalid"),
        ({"Authorization": "Bearer a.b.c"}, "token_invalid"),
        ({"Authorization": "Bearer one two"}, "token_invalid"),
    ],
)
def test_missing_or_malformed_token_is_401(client, headers, reason):
    response = client.get("/auth/me", headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")
    assert _reason(response) == reason


def test_expired_token_is_401(app, client, user_id):
    token = access_token(app, user_id, expires=timedelta(seconds=-5))
    response = client.get("/auth/me", headers=bearer(token))
    assert_error(response, 401, "UNAUTHORIZED")
    assert _reason(response) == "token_expired"


def test_tampered_signature_is_401(client, tokens, user_id):
    claims = pyjwt.decode(tokens["access"], options={"verify_signature": False})
    other_key = pyjwt.encode(claims, "another-secret-key-of-at-least-32-bytes!", algorithm="HS256")
    for token in (other_key, _tampered_payload(tokens["access"]), tokens["access"][:-4] + "AAAA"):
        response = client.get("/auth/me", headers=bearer(token))
        assert_error(response, 401, "UNAUTHORIZED")
        assert _reason(response) == "token_invalid"


def test_unsigned_token_is_401(client, tokens):
    claims = pyjwt.decode(tokens["access"], options={"verify_signature": False})
    token = pyjwt.encode(claims, None, algorithm="none")
    assert_error(client.get("/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED")


def test_wrong_token_type_is_401_both_ways(client, tokens):
    response = client.get("/auth/me", headers=bearer(tokens["refresh"]))
    assert_error(response, 401, "UNAUTHORIZED")
    assert _reason(response) == "token_invalid"
    assert_error(client.post("/auth/refresh", headers=bearer(tokens["access"])), 401, "UNAUTHORIZED")


def test_refresh_issues_a_working_access_token(client, tokens, user_id):
    response = client.post("/auth/refresh", headers=bearer(tokens["refresh"]))
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"} and data["expires_in"] == 900
    assert client.get("/auth/me", headers=bearer(data["access_token"])).get_json()["data"]["user"]["user_id"] == user_id


def test_user_blocked_after_the_token_was_issued(client, tokens, db_conn, user_id):
    assert client.get("/auth/me", headers=bearer(tokens["access"])).status_code == 200
    db_conn.cursor().execute("UPDATE users SET status = 'blocked' WHERE user_id = %s", (user_id,))
    auth_cache_clear(client)
    for response in (
        client.get("/auth/me", headers=bearer(tokens["access"])),
        client.post("/auth/refresh", headers=bearer(tokens["refresh"])),
        client.post("/auth/logout", headers=bearer(tokens["access"])),
    ):
        assert_error(response, 403, "FORBIDDEN")
        assert _reason(response) == "account_blocked"


def test_deleted_user_is_401(client, tokens, db_conn, user_id):
    db_conn.cursor().execute("DELETE FROM users WHERE user_id = %s", (user_id,))
    auth_cache_clear(client)
    for response in (
        client.get("/auth/me", headers=bearer(tokens["access"])),
        client.post("/auth/refresh", headers=bearer(tokens["refresh"])),
    ):
        assert_error(response, 401, "UNAUTHORIZED")
        assert _reason(response) == "user_deleted"


def test_role_claim_is_not_trusted(app, client, user_id):
    forged_admin = access_token(app, user_id, role="admin")
    assert_error(client.get("/admin/users", headers=bearer(forged_admin)), 403, "FORBIDDEN")


def test_logout_revokes_access_and_refresh_tokens(client, tokens, db_conn, user_id):
    response = client.post("/auth/logout", headers=bearer(tokens["access"]), json={"refresh_token": tokens["refresh"]})
    assert response.status_code == 200 and response.get_json()["data"] == {"revoked": ["access", "refresh"]}
    reuse = client.get("/auth/me", headers=bearer(tokens["access"]))
    assert_error(reuse, 401, "UNAUTHORIZED")
    assert _reason(reuse) == "token_revoked"
    assert_error(client.post("/auth/refresh", headers=bearer(tokens["refresh"])), 401, "UNAUTHORIZED")
    assert_error(client.post("/auth/logout", headers=bearer(tokens["access"])), 401, "UNAUTHORIZED")
    rows = fetch_all(db_conn, "SELECT user_id, token_type, expires_at FROM revoked_tokens ORDER BY token_type")
    assert [(row["user_id"], row["token_type"]) for row in rows] == [(user_id, "access"), (user_id, "refresh")]
    access_exp = pyjwt.decode(tokens["access"], options={"verify_signature": False})["exp"]
    assert rows[0]["expires_at"].replace(tzinfo=UTC) == datetime.fromtimestamp(access_exp, UTC)


def test_logout_with_only_the_access_token_leaves_the_refresh_token(client, tokens):
    assert client.post("/auth/logout", headers=bearer(tokens["access"])).get_json()["data"] == {"revoked": ["access"]}
    assert client.post("/auth/refresh", headers=bearer(tokens["refresh"])).status_code == 200


def test_logout_with_the_refresh_token_in_the_header(client, tokens):
    assert client.post("/auth/logout", headers=bearer(tokens["refresh"])).get_json()["data"] == {"revoked": ["refresh"]}
    assert_error(client.post("/auth/refresh", headers=bearer(tokens["refresh"])), 401, "UNAUTHORIZED")
    assert client.get("/auth/me", headers=bearer(tokens["access"])).status_code == 200


def test_logout_with_another_users_refresh_token_is_403_and_revokes_nothing(app, client, tokens, db_conn):
    other = refresh_token(app, make_user(db_conn, "other@example.com"))
    response = client.post("/auth/logout", headers=bearer(tokens["access"]), json={"refresh_token": other})
    assert_error(response, 403, "FORBIDDEN")
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM revoked_tokens") == 0
    assert client.get("/auth/me", headers=bearer(tokens["access"])).status_code == 200


def test_logout_skips_a_refresh_token_that_is_no_live_token(app, client, tokens, user_id):
    expired = refresh_token(app, user_id, expires=timedelta(seconds=-5))
    for useless in ("garbage", expired, _tampered_payload(tokens["refresh"])):
        fresh = access_token(app, user_id)
        response = client.post("/auth/logout", headers=bearer(fresh), json={"refresh_token": useless})
        assert response.get_json()["data"] == {"revoked": ["access"]}
    assert client.post("/auth/refresh", headers=bearer(tokens["refresh"])).status_code == 200


def test_logout_revokes_whatever_live_token_of_the_caller_it_is_given(app, client, tokens, user_id):
    second = access_token(app, user_id)
    response = client.post("/auth/logout", headers=bearer(tokens["access"]), json={"refresh_token": second})
    assert response.get_json()["data"] == {"revoked": ["access"]}
    assert_error(client.get("/auth/me", headers=bearer(second)), 401, "UNAUTHORIZED")


def test_purge_deletes_only_expired_revocations(app, db_conn, user_id):
    cursor = db_conn.cursor()
    cursor.executemany(
        "INSERT INTO revoked_tokens (jti, user_id, token_type, expires_at) VALUES (%s, %s, 'access', %s)",
        [
            ("old-1", user_id, "2026-01-01 00:00:00"),
            ("old-2", user_id, "2026-06-01 00:00:00"),
            ("live", user_id, "2027-01-01 00:00:00"),
        ],
    )
    with app.app_context():
        assert auth.purge_revoked_tokens(now=datetime(2026, 11, 20, tzinfo=UTC)) == 2
    assert [row["jti"] for row in fetch_all(db_conn, "SELECT jti FROM revoked_tokens")] == ["live"]


def test_status_cache_lasts_at_most_its_ttl(app, client, tokens, db_conn, user_id):
    now = [1000.0]
    assert app.extensions["auth_cache"].ttl_s == 5
    app.extensions["auth_cache"] = LockedCache(100, 5, timer=lambda: now[0])
    assert client.get("/auth/me", headers=bearer(tokens["access"])).status_code == 200
    db_conn.cursor().execute("UPDATE users SET status = 'blocked' WHERE user_id = %s", (user_id,))
    now[0] += 4.9
    assert client.get("/auth/me", headers=bearer(tokens["access"])).status_code == 200  # cached
    now[0] += 0.2
    assert_error(client.get("/auth/me", headers=bearer(tokens["access"])), 403, "FORBIDDEN")


# --- the shared check as Socket.IO's connect handler calls it -----------------------------------------


def test_verify_access_token_accepts_a_good_token(app, tokens, user_id):
    with app.app_context():
        assert auth.verify_access_token(tokens["access"]).user_id == user_id


@pytest.mark.parametrize(
    "make_token,error",
    [
        (lambda app, uid: access_token(app, uid, expires=timedelta(seconds=-5)), TokenExpired),
        (lambda app, uid: refresh_token(app, uid), TokenInvalid),
        (lambda app, uid: "not.a.token", TokenInvalid),
        (lambda app, uid: "", TokenInvalid),
        (lambda app, uid: None, TokenInvalid),
        (lambda app, uid: 12345, TokenInvalid),
        (lambda app, uid: _tampered_payload(access_token(app, uid)), TokenInvalid),
    ],
)
def test_verify_access_token_rejects_bad_tokens(app, user_id, make_token, error):
    token = make_token(app, user_id)
    with app.app_context(), pytest.raises(error) as caught:
        auth.verify_access_token(token)
    assert caught.value.status == 401


def test_verify_access_token_checks_revocation_status_and_existence(app, client, tokens, db_conn, user_id):
    client.post("/auth/logout", headers=bearer(tokens["access"]))
    with app.app_context(), pytest.raises(TokenRevoked):
        auth.verify_access_token(tokens["access"])
    fresh = access_token(app, user_id)
    db_conn.cursor().execute("UPDATE users SET status = 'blocked' WHERE user_id = %s", (user_id,))
    with app.app_context():
        auth.clear_auth_cache()
        with pytest.raises(AccountBlocked) as blocked:
            auth.verify_access_token(fresh)
        assert blocked.value.status == 403
    db_conn.cursor().execute("DELETE FROM users WHERE user_id = %s", (user_id,))
    with app.app_context():
        auth.clear_auth_cache()
        with pytest.raises(UserGone):
            auth.verify_access_token(fresh)


def auth_cache_clear(client):
    with client.application.app_context():
        auth.clear_auth_cache()


def test_a_verified_token_is_decoded_once_and_its_expiry_still_ends_it(app, client, user_id, monkeypatch):
    decodes = []
    real_decode = pyjwt.decode
    monkeypatch.setattr(pyjwt, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    token = access_token(app, user_id, expires=timedelta(seconds=2))
    for _ in range(3):
        assert client.get("/auth/me", headers=bearer(token)).status_code == 200
    assert len(decodes) == 2  # flask-jwt-extended's two decodes (unverified, verified), for the first request only
    time.sleep(2.1)
    response = client.get("/auth/me", headers=bearer(token))  # remembered, but expired: a full check says so
    assert_error(response, 401, "UNAUTHORIZED")
    assert _reason(response) == "token_expired"


def test_tokens_verified_by_one_app_are_not_trusted_by_an_app_with_another_key(app, user_id, db_config, make_app):
    token = access_token(app, user_id)
    assert app.test_client().get("/auth/me", headers=bearer(token)).status_code == 200
    other = make_app(db_config, jwt_secret_key="another-secret-key-of-at-least-32-chars!!")
    assert_error(other.test_client().get("/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED")
