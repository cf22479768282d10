"""Request observability: request id, Server-Timing, metrics, slow-request log, security headers, and the
per-request yield, as one WSGI middleware around Flask's own `wsgi_app`.

A middleware rather than Flask request hooks: it writes its headers into the WSGI header list, where a Flask hook
adds them to werkzeug's `Headers` one validated call at a time, reads the request's method, path and matched rule
from the environ instead of through context proxies, and saves two hooks' dispatch: ~12 µs per `/health` in process,
~50 µs of the loaded worker's CPU (docs/BENCHMARKS.md, framework overhead). It wraps Flask's `wsgi_app` only, so
Socket.IO's transport requests, which never reach Flask, are not counted as HTTP requests.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from backend.extensions import socketio
from backend.settings import Settings
from utils import metrics
from utils.request_context import start_request

log = logging.getLogger("backend.requests")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin-allow-popups"),
]
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

StartResponse = Callable[..., Any]


class RequestObservability:
    """WSGI middleware: each request gets an id (a valid incoming X-Request-ID, else a random one) in the request
    context and the `X-Request-ID` header, `Server-Timing` (total and the request's timing buckets), the security
    headers a route did not set itself, a labelled counter and latency observation, a warning when slower than
    `slow_s`, and one cooperative yield before its response is written."""

    def __init__(self, wsgi_app: Callable[[dict, StartResponse], Iterable[bytes]], slow_s: float, hsts: bool):
        self.wsgi_app = wsgi_app
        self._slow_s = slow_s
        self._defaults = _SECURITY_HEADERS + ([_HSTS] if hsts else [])
        self._default_names = {name.lower() for name, _ in self._defaults}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID")
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        started = time.perf_counter()
        buckets = start_request(request_id)

        def observed_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            elapsed = time.perf_counter() - started
            timing = f"total;dur={elapsed * 1000:.1f}"
            for name, seconds in buckets.items():
                timing += f", {name};dur={seconds * 1000:.1f}"
            headers += (("Server-Timing", timing), ("X-Request-ID", request_id))
            present = {name.lower() for name, _ in headers} & self._default_names
            headers += [h for h in self._defaults if h[0].lower() not in present] if present else self._defaults
            self._observe(environ, status, elapsed)
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, observed_start_response)
        # Under gevent a saturated keep-alive connection is served without yielding;
        # one cooperative yield per request keeps p99 low (docs/ARCHITECTURE.md, performance facts).
        socketio.sleep(0)
        return body

    def _observe(self, environ: dict, status: str, elapsed: float) -> None:
        request = environ.get("werkzeug.request")  # Flask's request object (werkzeug's populate_request)
        rule = request.url_rule if request is not None else None
        method = environ["REQUEST_METHOD"]
        method = method if method in _METHODS else "OTHER"  # a label value per client-chosen word would grow forever
        code = status[:3]
        endpoint = rule.rule if rule is not None else "unmatched"
        metrics.HTTP_REQUESTS.labels(method, endpoint, code).inc()
        metrics.HTTP_LATENCY.labels(endpoint).observe(elapsed)
        if elapsed > self._slow_s:
            log.warning("slow request %s %s %s in %.0f ms", method, environ.get("PATH_INFO"), code, elapsed * 1000)


def init_observability(app: Flask, settings: Settings) -> None:
    """Wrap the app's Flask `wsgi_app` (call before anything wraps it for other paths, e.g. Socket.IO)."""
    app.wsgi_app = RequestObservability(  # type: ignore[method-assign]
        app.wsgi_app, settings.perf_log_threshold_ms / 1000, hsts=settings.is_production
    )
