"""Google sign-in against a fake Google on loopback with locally signed ID tokens."""

import time

import pytest

from backend.app import create_app
from controller.sql import fetch_one, fetch_value
from tests.auth_helpers import PASSWORD, assert_error, bearer, make_user
from tests.conftest import make_settings
from tests.fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle, SigningKey


@pytest.fixture(scope="module")
def google_key():
    return SigningKey("kid-1")


@pytest.fixture
def google(google_key):
    fake = FakeGoogle(google_key).start()
    yield fake
    fake.stop()


@pytest.fixture
def app(db_config, google):
    application = create_app(
        make_settings(
            db_config,
            google_client_id=CLIENT_ID,
            google_client_secret=CLIENT_SECRET,
            google_token_url=f"{google.base_url}/token",
            google_certs_url=f"{google.base_url}/certs",
            google_timeout_s=2,
            admin_emails="boss@example.com",
            auth_rate_limit="100 per minute",
        )
    )
    yield application
    application.extensions["db"].close()


def _login(client, **body):
    return client.post("/auth/google-login", json=body)


def test_valid_credential_signs_up_a_new_user_with_an_account(client, google_key, db_conn):
    response = _login(client, credential=google_key.id_token())
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert set(data) == {
        "token",
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "role",
        "status",
        "is_new_user",
        "user",
    }
    assert data["is_new_user"] is True and data["token"] == data["access_token"]
    assert (data["role"], data["status"]) == ("user", "active")
    assert (data["user"]["email"], data["user"]["name"]) == ("priya@gmail.com", "Priya Shah")
    row = fetch_one(
        db_conn, "SELECT google_sub, password_hash FROM users WHERE user_id = %s", (data["user"]["user_id"],)
    )
    assert row == {"google_sub": "10769150350006150715", "password_hash": None}
    assert fetch_value(db_conn, "SELECT cash FROM accounts WHERE user_id = %s", (data["user"]["user_id"],)) == 100000
    assert client.get("/auth/me", headers=bearer(data["access_token"])).status_code == 200
    again = _login(client, credential=google_key.id_token()).get_json()["data"]
    assert again["is_new_user"] is False and again["user"]["user_id"] == data["user"]["user_id"]


def test_token_and_role_are_also_at_the_top_level(client, google_key):
    """Existing dashboard clients read `token` and `role` beside `status`; they stay inside `data` too."""
    body = _login(client, credential=google_key.id_token(email="boss@example.com")).get_json()
    assert body["token"] == body["data"]["token"] == body["data"]["access_token"]
    assert body["role"] == body["data"]["role"] == "admin"
    assert client.get("/user/verify", headers=bearer(body["token"])).get_json()["valid"] is True


def test_existing_password_user_is_linked_by_verified_email(client, google_key, db_conn):
    user_id = make_user(db_conn, "priya@gmail.com")
    data = _login(client, credential=google_key.id_token(email="Priya@Gmail.com")).get_json()["data"]
    assert data["is_new_user"] is False and data["user"]["user_id"] == user_id
    assert fetch_value(db_conn, "SELECT google_sub FROM users WHERE user_id = %s", (user_id,)) == "10769150350006150715"
    assert client.post("/auth/login", json={"email": "priya@gmail.com", "password": PASSWORD}).status_code == 200


def test_email_linked_to_another_google_account_is_409(client, google_key, db_conn):
    make_user(db_conn, "priya@gmail.com", google_sub="someone-else")
    assert_error(_login(client, credential=google_key.id_token()), 409, "CONFLICT")


def test_admin_email_is_bootstrapped(client, google_key):
    data = _login(client, credential=google_key.id_token(email="boss@example.com", sub="42")).get_json()["data"]
    assert data["role"] == "admin" and data["user"]["role"] == "admin"


def test_blocked_user_is_403(client, google_key, db_conn):
    make_user(db_conn, "priya@gmail.com", google_sub="10769150350006150715", status="blocked")
    assert_error(_login(client, credential=google_key.id_token()), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "claims,reason",
    [
        ({"aud": "someone-else.apps.googleusercontent.com"}, "audience"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"email_verified": False}, "email_not_verified"),
        ({"email_verified": None}, "email_not_verified"),
        ({"iss": "https://evil.example.com"}, "wrong issuer"),
        ({"email": None}, "no email"),
    ],
)
def test_rejected_id_tokens(client, google_key, db_conn, claims, reason):
    body = assert_error(_login(client, credential=google_key.id_token(**claims)), 401, "UNAUTHORIZED")
    assert reason in body["error"]["details"]["reason"].lower()
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM users") == 0


def test_token_signed_by_another_key_is_rejected(client):
    impostor = SigningKey("kid-1")  # same key id, different key
    assert_error(_login(client, credential=impostor.id_token()), 401, "UNAUTHORIZED")
    assert_error(_login(client, credential=SigningKey("kid-2").id_token()), 401, "UNAUTHORIZED")
    assert_error(_login(client, credential="not-a-jwt"), 401, "UNAUTHORIZED")


def test_certificates_are_fetched_once_while_google_allows_caching_them(client, google, google_key):
    for name in ("asha", "ravi", "meena"):
        assert _login(client, credential=google_key.id_token(email=f"{name}@gmail.com", sub=name)).status_code in (
            200,
            201,
        )
    assert google.certs_requests == 1


def test_uncacheable_certificates_are_fetched_for_every_sign_in(client, google, google_key):
    google.certs_cache_control = "no-cache, max-age=0"
    for _ in range(2):
        assert _login(client, credential=google_key.id_token()).status_code in (200, 201)
    assert google.certs_requests == 2


def test_a_rotated_signing_key_is_picked_up_by_refetching_the_certificates(client, google, google_key):
    assert _login(client, credential=google_key.id_token()).status_code in (200, 201)
    google.key = SigningKey("kid-rotated")  # Google starts signing with a key the cached certificates lack
    assert _login(client, credential=google.key.id_token()).status_code == 200
    assert google.certs_requests == 2
    assert_error(_login(client, credential=SigningKey("kid-unknown").id_token()), 401, "UNAUTHORIZED")
    assert google.certs_requests == 3  # one more look for the unknown key, then a clear 401


def test_code_flow_exchanges_the_code_then_verifies(client, google, google_key):
    google.codes["4/0Abc"] = google_key.id_token()
    data = _login(client, code="4/0Abc").get_json()["data"]
    assert data["is_new_user"] is True and data["user"]["email"] == "priya@gmail.com"
    form = google.token_requests[-1]
    assert form == {
        "code": "4/0Abc",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "postmessage",
        "grant_type": "authorization_code",
    }
    body = assert_error(_login(client, code="4/0Abc"), 401, "UNAUTHORIZED")  # codes are single use
    assert body["error"]["details"] == {"reason": "invalid_grant"}


def test_code_flow_still_verifies_the_returned_token(client, google, google_key):
    google.codes["code-2"] = google_key.id_token(aud="someone-else")
    assert_error(_login(client, code="code-2"), 401, "UNAUTHORIZED")


def test_google_unreachable_is_503(client, google, google_key):
    google.certs_status = 500
    assert_error(_login(client, credential=google_key.id_token()), 503, "SERVICE_UNAVAILABLE")
    google.stop()
    assert_error(_login(client, code="anything"), 503, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "a", "credential": "b"},
        {"code": ""},
        {"credential": 5},
        {"code": "has space"},
        {"credential": "é" * 10},
        {"credential": "x", "code": None},
    ],
)
def test_google_login_validation(client, body):
    assert_error(_login(client, **body), 400, "VALIDATION_ERROR")


def test_not_configured_is_404_with_a_clear_message(db_config, google_key, make_app):
    application = make_app(db_config, google_client_id="")
    body = assert_error(_login(application.test_client(), credential=google_key.id_token()), 404, "NOT_FOUND")
    assert "GOOGLE_CLIENT_ID" in body["error"]["message"]
    assert body["error"]["details"] == {"reason": "google_signin_disabled"}


def test_code_flow_without_a_secret_is_404_but_credentials_work(db_config, google, google_key, make_app):
    client = make_app(db_config, google_client_id=CLIENT_ID, google_certs_url=f"{google.base_url}/certs").test_client()
    body = assert_error(_login(client, code="4/0Abc"), 404, "NOT_FOUND")
    assert "GOOGLE_CLIENT_SECRET" in body["error"]["message"]
    assert _login(client, credential=google_key.id_token()).status_code == 200


def test_a_profile_name_loses_the_characters_a_typed_name_may_not_have(client, google_key):
    response = _login(client, credential=google_key.id_token(name="\u202eevil\u200b Name\x07"))
    assert response.get_json()["data"]["user"]["name"] == "evil Name"
