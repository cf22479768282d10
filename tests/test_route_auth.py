"""Every registered route that is not explicitly public rejects a request without a token (401 envelope).

New routes are covered automatically: anything not in PUBLIC must require a token.
"""

import re

from tests.auth_helpers import assert_error

# (method, path pattern) pairs reachable without a token.
PUBLIC = [
    ("GET", r"/(health|healthz|metrics|openapi\.json|docs)(/.*)?"),
    ("GET", r"/(stocks|indices|market|news|sentiment|fundamentals)(/.*)?"),
    ("POST", r"/auth/(register|login|google-login)"),
    ("GET", r"/"),
    ("GET", r"/static/<path:filename>"),  # the dashboard's JavaScript, CSS and vendored libraries
    ("GET", r"/scans/<int:scan_id>/events"),  # authenticated by its single-use ticket (tests/scans/)
]
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _sample_path(rule: str) -> str:
    """The rule with every argument filled with a plausible value for its converter."""
    return _ARGUMENT.sub(lambda m: "1" if m.group(1) in ("int", "float") else "x", rule)


def _is_public(method: str, rule: str) -> bool:
    return any(method == public_method and re.fullmatch(pattern, rule) for public_method, pattern in PUBLIC)


def _protected_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if not _is_public(method, rule.rule):
                yield method, rule.rule


def test_every_non_public_route_requires_a_token(app, client):
    checked = []
    for method, rule in _protected_routes(app):
        response = client.open(_sample_path(rule), method=method, json={})
        assert_error(response, 401, "UNAUTHORIZED")
        checked.append(f"{method} {rule}")
    # the walk really covers the protected surface known today (more routes may be added later)
    assert {
        "GET /auth/me",
        "GET /user/verify",
        "POST /auth/refresh",
        "POST /auth/logout",
        "GET /admin/users",
        "PATCH /admin/users/<int:user_id>",
        "DELETE /admin/users/<int:user_id>",
        "GET /admin/jobs",
        "POST /admin/jobs/<name>/run",
    } <= set(checked)


def test_the_allow_list_is_narrow():
    assert _is_public("GET", "/stocks/detail/<symbol>") and _is_public("POST", "/auth/login")
    assert not _is_public("POST", "/stocks/x") and not _is_public("GET", "/auth/me")
    assert not _is_public("GET", "/orders") and not _is_public("GET", "/admin/users")
    assert not _is_public("GET", "/healthzz") and not _is_public("POST", "/auth/logout")
    assert _sample_path("/orders/<int:order_id>/x/<path:rest>") == "/orders/1/x/x"
