"""Deeply nested JSON is a client error: a 400 envelope on every route that reads a JSON body (signed in or
not), a 401 when it hides in a token, never a RecursionError, a 500 or a traceback in the log."""

from __future__ import annotations

import base64
import logging
import re

import pytest

from routes.openapi_models import openapi_path
from routes.validation import request_models
from services.accounts import auth
from tests.auth_helpers import access_token, assert_error, bearer, make_user
from utils import json_depth
from utils.errors import TokenInvalid

DEEP = "[" * 100_000 + "]" * 100_000


def nested(levels: int) -> str:
    """An object whose `email` is `levels` - 1 nested arrays: `levels` levels in all."""
    return '{"email": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


@pytest.fixture
def admin_token(app, db_conn):
    return access_token(app, make_user(db_conn, "root@example.com", role="admin"), role="admin")


def body_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route whose view reads a JSON body, path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if "body" in request_models(app.view_functions[rule.endpoint]):
            path = re.sub(r"\{[^}]+\}", "1", openapi_path(rule))
            found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_json_route_answers_400_to_a_hundred_thousand_levels(app, client, admin_token, caplog):
    caplog.set_level(logging.WARNING)
    routes = body_routes(app)
    assert ("POST", "/auth/login") in routes and ("POST", "/orders") in routes and len(routes) >= 10
    for method, path in routes:
        response = client.open(
            path, method=method, data=DEEP, content_type="application/json", headers=bearer(admin_token)
        )
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert body["error"]["details"] == {"reason": "json_too_deep", "max_depth": 64}, (method, path)
        assert body["message"] == "JSON nested deeper than 64 levels"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text


def test_the_unauthenticated_login_is_protected_too(client):
    response = client.post("/auth/login", data=DEEP, content_type="application/json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_the_limit_is_64_levels(client):
    at_limit = client.post("/auth/login", data=nested(64), content_type="application/json")
    body = assert_error(at_limit, 400, "VALIDATION_ERROR")
    assert body["error"]["details"]["fields"][0]["field"] == "email"  # parsed; only the field is wrong
    beyond = client.post("/auth/login", data=nested(65), content_type="application/json")
    assert assert_error(beyond, 400, "VALIDATION_ERROR")["error"]["details"]["reason"] == "json_too_deep"


def test_depth_counts_arrays_and_objects():
    four_levels = {"a": [1, {"b": []}]}
    assert not json_depth.depth_exceeds(four_levels, 4) and json_depth.depth_exceeds(four_levels, 3)
    assert not json_depth.depth_exceeds("text", 0) and json_depth.depth_exceeds([], 0)
    with pytest.raises(json_depth.JsonTooDeep):
        json_depth.loads(DEEP)


def _deep_token() -> str:
    header = base64.urlsafe_b64encode(("[" * 20_000 + "]" * 20_000).encode()).rstrip(b"=").decode()
    return f"{header}.e30.c2ln"


def test_a_token_hiding_deep_json_is_401(app, client, caplog):
    caplog.set_level(logging.WARNING)
    body = assert_error(client.get("/auth/me", headers=bearer(_deep_token())), 401, "UNAUTHORIZED")
    assert body["error"]["details"]["reason"] == "token_invalid"
    with app.app_context(), pytest.raises(TokenInvalid):
        auth.verify_access_token(_deep_token())  # the Socket.IO connect's check
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
