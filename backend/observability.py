"""Request hooks: request id, Server-Timing, metrics, slow-request log, security headers."""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, Response, g, request

from backend.extensions import socketio
from backend.settings import Settings
from utils import metrics
from utils.request_context import start_request, timings

log = logging.getLogger("backend.requests")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
}
_HSTS = "max-age=31536000; includeSubDomains"


class _RequestMetrics:
    """The labelled Prometheus children of each (method, endpoint, status), looked up once: `labels()` takes a
    lock and validates its arguments on every call. Bounded by the route table times the statuses it answers."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], object] = {}
        self._latencies: dict[str, object] = {}

    def record(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, endpoint, status))
        if counter is None:
            counter = self._counters[method, endpoint, status] = metrics.HTTP_REQUESTS.labels(
                method, endpoint, str(status)
            )
        latency = self._latencies.get(endpoint)
        if latency is None:
            latency = self._latencies[endpoint] = metrics.HTTP_LATENCY.labels(endpoint)
        counter.inc()
        latency.observe(seconds)


def init_observability(app: Flask, settings: Settings) -> None:
    """Install the before/after request hooks."""
    slow_s = settings.perf_log_threshold_ms / 1000
    hsts = settings.is_production
    request_metrics = _RequestMetrics()

    @app.before_request
    def _start() -> None:
        incoming = request.environ.get("HTTP_X_REQUEST_ID")
        context = g._get_current_object()
        context.request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        context.started = time.perf_counter()
        start_request(context.request_id)

    defaults = {**_SECURITY_HEADERS, **({"Strict-Transport-Security": _HSTS} if hsts else {})}
    default_names = {name.lower() for name in defaults}

    @app.after_request
    def _finish(response: Response) -> Response:
        context = g._get_current_object()
        started = context.get("started")
        if started is None:  # the request failed before our before_request ran
            return response
        elapsed = time.perf_counter() - started
        req = request._get_current_object()
        endpoint = req.url_rule.rule if req.url_rule else "unmatched"
        timing = f"total;dur={elapsed * 1000:.1f}"
        for name, seconds in timings().items():
            timing += f", {name};dur={seconds * 1000:.1f}"
        headers = response.headers
        # One pass over what is there: werkzeug finds a header by a linear, case-folding scan per lookup.
        present = {name.lower() for name, _ in headers.items()} & default_names
        added = [("Server-Timing", timing), ("X-Request-ID", context.request_id)]
        if present:
            added += [(name, value) for name, value in defaults.items() if name.lower() not in present]
        else:
            added += defaults.items()
        headers.extend(added)
        request_metrics.record(req.method, endpoint, response.status_code, elapsed)
        if elapsed > slow_s:
            log.warning("slow request %s %s %d in %.0f ms", req.method, req.path, response.status_code, elapsed * 1000)
        # Under gevent a saturated keep-alive connection is served without yielding;
        # one cooperative yield per request keeps p99 low (docs/ARCHITECTURE.md, performance facts).
        socketio.sleep(0)
        return response
