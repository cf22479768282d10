"""Extension objects, unbound; `create_app` binds them with `init_app`; and the reads of the current app's extensions
and the request's environ that every module uses. Imports none of our packages.

Three of them step around a hook of their library that has no public switch; each was written against the
version named in its docstring, and tests/test_extension_hooks.py fails when the library changes that hook.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from flask import Flask, Response, current_app, request
from flask_compress import Compress
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO

_app = current_app._get_current_object  # type: ignore[attr-defined]
_request = request._get_current_object  # type: ignore[attr-defined]
_RATE_LIMITED = "app.rate_limited"  # in the environ of a request that went through a rate-limited route


def app_extensions() -> dict[str, Any]:
    """`current_app.extensions` (RuntimeError outside an app context), without the proxy's attribute lookup:
    `current_app.extensions` costs ~0.6 µs through `LocalProxy`'s machinery; `_get_current_object()`, the proxies'
    documented way to the object behind them, and a plain attribute ~0.1 µs. The request path reads the extensions
    (settings, caches, the clock, live prices) many times per request (docs/BENCHMARKS.md, search)."""
    return _app().extensions


def request_environ() -> dict[str, Any]:
    """`request.environ` (RuntimeError outside a request context), as `app_extensions` reads the app's."""
    return _request().environ


def limited_only(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A Flask-Limiter request hook that runs only for requests that went through a rate-limited route.

    A plain function, not a callable object: Flask asks `inspect.iscoroutinefunction` about every hook on every
    request, which is much slower for objects."""

    def run_if_limited(value: Any) -> Any:
        return run_if_limited.hook(value) if _RATE_LIMITED in request_environ() else value

    run_if_limited.hook = hook  # type: ignore[attr-defined]
    return run_if_limited


class RouteLimiter(Limiter):
    """A Limiter for decorated routes only (`limiter.limit(...)` checks in its own wrapper).

    Without application-wide or default limits, the before-request check that Limiter installs has nothing
    to enforce, yet it resolves the limits of every request, and its after-request hook (rate-limit headers)
    and teardown hook (its per-request context) run for every request too: a large share of a cheap request
    (docs/BENCHMARKS.md, framework overhead). The check is dropped, and the two other hooks run only for
    requests that went through a limited route. Flask-Limiter has no public switch for these (written against
    Flask-Limiter 4.1.1, where `init_app` registers the private `_check_request_limit` with
    `app.before_request`, `partial(Limiter.__inject_headers, self)` with `app.after_request` and
    `self.__release_context` with `app.teardown_request`, and a decorated route's wrapper calls
    `_check_request_limit` itself): if a release registers them otherwise, start-up fails here
    (tests/test_extension_hooks.py says which).
    """

    def init_app(self, app: Flask) -> None:
        """Bind to the app, without the app-wide before-request check; its other hooks for limited routes only."""
        super().init_app(app)
        app.before_request_funcs[None].remove(self._check_request_limit)
        after, teardown = app.after_request_funcs[None], app.teardown_request_funcs[None]
        headers = [n for n, hook in enumerate(after) if getattr(hook, "func", None) is Limiter._Limiter__inject_headers]
        release = [n for n, hook in enumerate(teardown) if hook == self._Limiter__release_context]
        if len(headers) != 1 or len(release) != 1:
            raise RuntimeError("Flask-Limiter's request hooks are not the ones RouteLimiter was written for")
        after[headers[0]] = limited_only(after[headers[0]])
        teardown[release[0]] = limited_only(teardown[release[0]])

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        request_environ()[_RATE_LIMITED] = True  # the hooks above now run for this request
        super()._check_request_limit(callable_name, in_middleware)


class OriginCORS(CORS):
    """CORS whose response hook runs only for requests with an Origin header.

    Configured with `always_send=False`, flask-cors adds nothing to a response without one (not even
    `Vary`), yet matches the path against its resources and scans the headers on every request. flask-cors
    has no public switch for that (written against flask-cors 6.0.5, whose `init_app` registers one function
    with `app.after_request`); if a release registers another number of them, start-up fails here.
    """

    def init_app(self, app: Flask, **kwargs: Any) -> None:
        """Bind to the app; its after-request hook skips requests that are not cross-origin."""
        if kwargs.get("always_send", True):
            raise ValueError("OriginCORS needs always_send=False")
        hooks = app.after_request_funcs.setdefault(None, [])
        before = list(hooks)
        super().init_app(app, **kwargs)
        added = [n for n, hook in enumerate(hooks) if hook not in before]
        if len(added) != 1:
            raise RuntimeError(f"flask-cors registered {len(added)} after-request hooks, OriginCORS expects one")
        hooks[added[0]] = cross_origin_only(hooks[added[0]])


def cross_origin_only(hook: Callable[[Response], Response]) -> Callable[[Response], Response]:
    """An after-request hook that runs flask-cors's `hook` only for requests with an Origin header (a plain
    function, as `limited_only` explains)."""

    def run_if_cross_origin(response: Response) -> Response:
        return run_if_cross_origin.hook(response) if "HTTP_ORIGIN" in request_environ() else response

    run_if_cross_origin.hook = hook  # type: ignore[attr-defined]
    return run_if_cross_origin


class VerifiedTokenJWTManager(JWTManager):
    """A JWTManager that remembers, per app, the tokens whose signature it verified, for a short while.

    flask-jwt-extended decodes every token three times per request (unverified claims, unverified header,
    then verified): pure-Python base64 and JSON work that shows in every authenticated request
    (bench/auth.py). A token string whose signature, type and claims verified once with this app's key
    decodes to the same claims every time, so a hit only re-checks the expiry (strictly, without leeway;
    tokens without one are never kept). Revocation and the user's
    status are still checked on every request, after decoding. flask-jwt-extended has no public hook around
    decoding (written against Flask-JWT-Extended 4.7.4, where every token, from a request or from the public
    `decode_token`, is decoded by the private `JWTManager._decode_jwt_from_config(encoded_token, csrf_value,
    allow_expired)`, overridden here).
    """

    def __init__(self, ttl_s: float = 60.0, maxsize: int = 8192) -> None:
        super().__init__()
        self._ttl_s, self._maxsize = ttl_s, maxsize

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Bind to the app and give it an empty cache of verified tokens."""
        super().init_app(app, add_context_processor)
        app.extensions["verified_tokens"] = (TTLCache(maxsize=self._maxsize, ttl=self._ttl_s), threading.Lock())

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False) -> dict:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        verified, lock = app_extensions()["verified_tokens"]
        with lock:
            known = verified.get(encoded_token)
        if known is not None and known["exp"] > time.time():
            return dict(known)
        claims = super()._decode_jwt_from_config(encoded_token)
        if "exp" in claims:
            with lock:
                verified[encoded_token] = claims
        return dict(claims)


COMPRESS_MIN_SIZE = 1024  # smaller responses are sent as they are


def compress_large(response: Response) -> Response:
    """Flask-Compress's after-request step (registered with COMPRESS_REGISTER off), skipped for a response
    known to be smaller than COMPRESS_MIN_SIZE (most API answers are, and its checks cost a large share of a
    cheap request: docs/BENCHMARKS.md, framework overhead) or asked for without Accept-Encoding (the response
    still says `Vary: Accept-Encoding`). `Compress.after_request` is its public method."""
    length = response.content_length
    if length is not None and length < COMPRESS_MIN_SIZE:
        return response
    if "HTTP_ACCEPT_ENCODING" not in request_environ() and "Vary" not in response.headers:
        response.headers.add("Vary", "Accept-Encoding")  # nothing to choose from: only the Vary header it would add
        return response  # (a route's own Vary goes to Flask-Compress, which extends it)
    return compress.after_request(response)


socketio = SocketIO()
jwt = VerifiedTokenJWTManager()
limiter = RouteLimiter(key_func=get_remote_address, headers_enabled=True)
compress = Compress()
cors = OriginCORS()
