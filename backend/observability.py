"""Request hooks: request id, Server-Timing, metrics, slow-request log, security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid

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


def init_observability(app: Flask, settings: Settings) -> None:
    """Install the before/after request hooks."""
    slow_s = settings.perf_log_threshold_ms / 1000
    hsts = settings.is_production

    @app.before_request
    def _start() -> None:
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        context = g._get_current_object()
        context.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        context.started = time.perf_counter()
        start_request(context.request_id)

    defaults = {**_SECURITY_HEADERS, **({"Strict-Transport-Security": _HSTS} if hsts else {})}

    @app.after_request
    def _finish(response: Response) -> Response:
        context = g._get_current_object()
        started = context.get("started")
        if started is None:  # the request failed before our before_request ran
            return response
        elapsed = time.perf_counter() - started
        req = request._get_current_object()
        endpoint = req.url_rule.rule if req.url_rule else "unmatched"
        parts = [f"total;dur={elapsed * 1000:.1f}"]
        parts += [f"{name};dur={seconds * 1000:.1f}" for name, seconds in timings().items()]
        headers = response.headers
        headers.update({"Server-Timing": ", ".join(parts), "X-Request-ID": context.request_id})
        # One pass for the defaults: werkzeug finds a header by a linear, case-folding scan per lookup.
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(name, value) for name, value in defaults.items() if name.lower() not in present])
        metrics.HTTP_REQUESTS.labels(req.method, endpoint, str(response.status_code)).inc()
        metrics.HTTP_LATENCY.labels(endpoint).observe(elapsed)
        if elapsed > slow_s:
            log.warning("slow request %s %s %d in %.0f ms", req.method, req.path, response.status_code, elapsed * 1000)
        # Under gevent a saturated keep-alive connection is served without yielding;
        # one cooperative yield per request keeps p99 low (docs/ARCHITECTURE.md, performance facts).
        socketio.sleep(0)
        return response
