"""Benchmark: what a web worker's memory is made of at import time.

Usage: .venv/bin/python bench/memory.py

In a fresh interpreter patched by gevent as the worker is, imports the libraries in groups, then the app, then
builds it (no database needed: the pool connects lazily), printing the resident memory (RSS) each step adds. A
library shared by two groups counts in the first. The worker's RSS with a universe, alerts and clients loaded is
measured by `bench/alerts.py e2e` (the lines "RSS ... before they connected").
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = [
    ("gevent (monkey-patched)", ["gevent.monkey"]),
    ("Flask, Werkzeug, Jinja2", ["flask", "werkzeug.routing"]),
    ("Flask-SocketIO, python-socketio, Engine.IO, simple-websocket", ["flask_socketio", "simple_websocket"]),
    ("mysql-connector-python", ["mysql.connector"]),
    ("pydantic, pydantic-settings", ["pydantic", "pydantic_settings"]),
    ("PyJWT, cryptography, Flask-JWT-Extended", ["flask_jwt_extended", "cryptography.x509"]),
    ("requests, urllib3", ["requests"]),
    ("redis", ["redis"]),
    ("google-auth", ["google.oauth2.id_token", "google.auth.transport.requests"]),
    ("Flask-Limiter, limits", ["flask_limiter"]),
    ("prometheus-client", ["prometheus_client"]),
    ("numpy (the simulator's random walk)", ["numpy"]),
    ("protobuf (the Upstox feed)", ["google.protobuf.message"]),
    ("feedparser", ["feedparser"]),
    ("holidays", ["holidays"]),
    ("PyYAML (the OpenAPI document)", ["yaml"]),
    ("the app's modules (routes, services, controller, utils, backend)", ["backend.app"]),
]


def rss_mib() -> float:
    """This process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    sys.path.insert(0, str(ROOT))
    start = previous = rss_mib()
    print("command: python bench/memory.py")
    print(f"{'interpreter':68s} {start:6.1f} MiB")
    for name, modules in GROUPS:
        for module in modules:
            importlib.import_module(module)
            if module == "gevent.monkey":
                sys.modules["gevent.monkey"].patch_all()
        now = rss_mib()
        print(f"{'+ ' + name:68s} {now - previous:+6.1f} MiB")
        previous = now
    os.environ.setdefault("DATABASE_URL", "mysql://app:app@127.0.0.1:1/unused")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from backend.app import create_app

    create_app()
    now = rss_mib()
    print(f"{'+ create_app() (settings, extensions, blueprints, OpenAPI document)':68s} {now - previous:+6.1f} MiB")
    print(f"{'total after create_app()':68s} {now:6.1f} MiB; {len(sys.modules)} modules")


if __name__ == "__main__":
    main()
