"""Register, login, /auth/me: validation, duplicates, admin bootstrap, paper account, rate limits."""

from decimal import Decimal

import pytest

from backend.app import create_app
from backend.extensions import limiter
from backend.settings import ConfigError
from controller.sql import fetch_one
from tests.auth_helpers import PASSWORD, assert_error, bearer, make_user
from tests.conftest import make_settings

NEW = {"email": "Asha.Rao@Example.com", "password": "s3cret-pass", "name": "  Asha Rao  "}


@pytest.fixture
def app(db_config):
    application = create_app(
        make_settings(db_config, admin_emails="boss@example.com, Chief@Example.com", starting_cash="250000")
    )
    yield application
    application.extensions["db"].close()


def test_register_creates_user_account_and_session(client, db_conn):
    response = client.post("/auth/register", json=NEW)
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert set(data) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    user = data["user"]
    assert set(user) == {"user_id", "name", "email", "role", "status", "created_at"}
    assert (user["email"], user["name"], user["role"], user["status"]) == (
        "asha.rao@example.com",
        "Asha Rao",
        "user",
        "active",
    )
    assert user["created_at"].endswith("+05:30")
    row = fetch_one(db_conn, "SELECT password_hash FROM users WHERE user_id = %s", (user["user_id"],))
    assert row["password_hash"].startswith("scrypt:") and "s3cret-pass" not in row["password_hash"]
    account = fetch_one(
        db_conn, "SELECT cash, reserved, starting_cash FROM accounts WHERE user_id = %s", (user["user_id"],)
    )
    assert account == {"cash": Decimal("250000.00"), "reserved": Decimal("0.00"), "starting_cash": Decimal("250000.00")}
    ledger = fetch_one(db_conn, "SELECT COUNT(*) AS n FROM ledger WHERE user_id = %s", (user["user_id"],))
    assert ledger["n"] == 0
    me = client.get("/auth/me", headers=bearer(data["access_token"]))
    assert me.status_code == 200 and me.get_json()["data"]["user"] == user


def test_user_verify_is_me_with_valid_and_user_at_the_top_level(client, db_conn, app):
    client.post("/auth/register", json=NEW)
    token = client.post("/auth/login", json={"email": NEW["email"], "password": NEW["password"]}).get_json()
    headers = bearer(token["data"]["access_token"])
    me = client.get("/auth/me", headers=headers).get_json()
    assert client.get("/user/verify", headers=headers).get_json() == {**me, "valid": True, "user": me["data"]["user"]}


def test_duplicate_email_is_409_whatever_the_case(client):
    assert client.post("/auth/register", json=NEW).status_code == 201
    again = dict(NEW, email=NEW["email"].upper(), name="Someone Else")
    assert_error(client.post("/auth/register", json=again), 409, "CONFLICT")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"password": "short77"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"email": None}, "email"),
        ({"password": 12345678}, "password"),
    ],
)
def test_register_validation(client, change, field):
    body = assert_error(client.post("/auth/register", json=dict(NEW, **change)), 400, "VALIDATION_ERROR")
    assert [detail["field"] for detail in body["error"]["details"]["fields"]] == [field]
    assert "s3cret-pass" not in str(body)


@pytest.mark.parametrize("payload", [None, "not json", [1, 2], {}])
def test_register_without_a_json_object_is_400(client, payload):
    if payload == "not json":
        response = client.post("/auth/register", data=payload, content_type="text/plain")
    else:
        response = client.post("/auth/register", json=payload)
    assert_error(response, 400, "VALIDATION_ERROR")


def test_register_bootstraps_admin_from_admin_emails(client):
    data = client.post("/auth/register", json=dict(NEW, email="chief@example.com")).get_json()["data"]
    assert data["user"]["role"] == "admin"


def test_login_returns_a_session_and_stamps_last_login(client, db_conn):
    user_id = make_user(db_conn, "ravi@example.com")
    response = client.post("/auth/login", json={"email": "RAVI@example.com", "password": PASSWORD})
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["user"]["user_id"] == user_id and data["access_token"] and data["refresh_token"]
    assert fetch_one(db_conn, "SELECT last_login_at FROM users WHERE user_id = %s", (user_id,))["last_login_at"]


def test_login_errors_do_not_reveal_whether_the_email_exists(client, db_conn):
    make_user(db_conn, "ravi@example.com")
    make_user(db_conn, "google-only@example.com", password=False, google_sub="g-1")
    wrong_password = assert_error(
        client.post("/auth/login", json={"email": "ravi@example.com", "password": "nope"}), 401, "UNAUTHORIZED"
    )
    unknown = assert_error(
        client.post("/auth/login", json={"email": "nobody@example.com", "password": "nope"}), 401, "UNAUTHORIZED"
    )
    no_password = assert_error(
        client.post("/auth/login", json={"email": "google-only@example.com", "password": PASSWORD}), 401, "UNAUTHORIZED"
    )
    assert wrong_password["error"] == unknown["error"] == no_password["error"]


def test_login_of_a_blocked_user_is_403_only_with_the_right_password(client, db_conn):
    make_user(db_conn, "blocked@example.com", status="blocked")
    assert_error(
        client.post("/auth/login", json={"email": "blocked@example.com", "password": "wrong-one"}), 401, "UNAUTHORIZED"
    )
    body = assert_error(
        client.post("/auth/login", json={"email": "blocked@example.com", "password": PASSWORD}), 403, "FORBIDDEN"
    )
    assert body["error"]["details"] == {"reason": "account_blocked"}


def test_login_promotes_an_admin_email(client, db_conn):
    make_user(db_conn, "boss@example.com")
    data = client.post("/auth/login", json={"email": "boss@example.com", "password": PASSWORD}).get_json()["data"]
    assert data["user"]["role"] == "admin"
    assert fetch_one(db_conn, "SELECT role FROM users WHERE email = 'boss@example.com'")["role"] == "admin"


def test_login_validation(client):
    assert_error(client.post("/auth/login", json={"email": "ravi@example.com"}), 400, "VALIDATION_ERROR")
    assert_error(client.post("/auth/login", json={"email": "nope", "password": "x"}), 400, "VALIDATION_ERROR")


@pytest.fixture
def limited_app(db_config):
    limiter.reset()
    application = create_app(make_settings(db_config, auth_rate_limit="2 per minute"))
    yield application
    application.extensions["db"].close()
    limiter.reset()


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/google-login"])
def test_auth_endpoints_are_rate_limited(limited_app, path):
    client = limited_app.test_client()
    for _ in range(2):
        assert client.post(path, json={}).status_code == 400
    response = client.post(path, json={})
    body = assert_error(response, 429, "RATE_LIMITED")
    assert "retry later" in body["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/health").status_code == 200  # other endpoints are not limited


def test_rate_limit_counts_do_not_leak_between_apps(db_config):
    for _ in range(2):
        application = create_app(make_settings(db_config, auth_rate_limit="2 per minute"))
        client = application.test_client()
        assert [client.post("/auth/login", json={}).status_code for _ in range(3)] == [400, 400, 429]
        application.extensions["db"].close()


def test_bad_rate_limit_setting_is_a_config_error(db_config):
    with pytest.raises(ConfigError, match="AUTH_RATE_LIMIT"):
        make_settings(db_config, auth_rate_limit="lots")


def test_auth_settings(db_config):
    settings = make_settings(
        db_config, admin_emails=" A@X.com ,b@y.org,", google_client_id=" ", google_client_secret=""
    )
    assert settings.admin_emails == ["a@x.com", "b@y.org"]
    assert settings.google_client_id is None and settings.google_client_secret is None
    assert (settings.auth_cache_ttl_s, settings.auth_rate_limit) == (5, "10 per minute")
    with pytest.raises(ConfigError, match="AUTH_CACHE_TTL_S"):
        make_settings(db_config, auth_cache_ttl_s=6)
