"""The floor of the HTTP stack for bench/http_endpoints.py: a bare Flask app with one JSON route, served by
the same gunicorn settings (gevent) and yielding once per request like the real app. Nothing of ours runs,
so its req/s and p99 are the best any endpoint of the app could reach on this machine."""

import gevent
from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/health")
def health() -> Response:
    """The app's /health payload, as a constant."""
    return jsonify(status="success", data={"status": "ok", "time": "2026-11-22T19:00:00.000+05:30"})


@app.after_request
def cooperative_yield(response: Response) -> Response:
    """One yield per request, as backend/observability.py does (docs/ARCHITECTURE.md, performance facts)."""
    gevent.sleep(0)
    return response
