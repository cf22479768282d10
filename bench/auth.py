"""Benchmark: what authentication costs per request, and what a password check costs.

Usage: .venv/bin/python bench/auth.py [--requests 2000]
Starts a throwaway MariaDB (like the tests), migrates, creates one user, then times in-process
(Flask test client, one thread): a probe route without auth, the same route behind `jwt_required`
with the auth-state cache (TTL 5 s) and without it (TTL 0: one DB round trip per request), the
shared `verify_access_token` alone, and one scrypt hash/verify.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from flask import Blueprint
from flask_jwt_extended import create_access_token, jwt_required
from harness import migrated_database

from backend.app import create_app
from backend.db import connect
from backend.settings import Settings
from services.accounts.auth import current_user_id, verify_access_token
from utils.passwords import hash_password, verify_password


def _app(url: str, ttl_s: float):
    settings = Settings.load(
        _env_file=None,
        app_env="test",
        database_url=url,
        socketio_async_mode="threading",
        log_level="ERROR",
        auth_cache_ttl_s=ttl_s,
    )
    app = create_app(settings)
    probe = Blueprint("bench_probe", __name__)
    probe.add_url_rule("/_bench/open", "open", lambda: {"ok": True})
    probe.add_url_rule("/_bench/auth", "auth", jwt_required()(lambda: {"user": current_user_id()}))
    app.register_blueprint(probe)
    return app


def _per_request_us(client, path: str, headers: dict, requests: int) -> float:
    for _ in range(50):
        assert client.get(path, headers=headers).status_code == 200
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path, headers=headers)
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp), "bench_auth") as server:
        conn = connect(server.config())
        cursor = conn.cursor()
        cursor.execute("INSERT INTO users (email, name) VALUES ('bench@example.com', 'Bench')")
        user_id = cursor.lastrowid
        conn.close()
        figures = {}
        for ttl_s in (5.0, 0.0):
            app = _app(server.config().url(), ttl_s)
            with app.app_context():
                token = create_access_token(str(user_id))
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            if ttl_s:
                figures["route without auth"] = _per_request_us(client, "/_bench/open", {}, args.requests)
            label = "cache hit (TTL 5 s)" if ttl_s else "no cache (TTL 0, 1 DB query)"
            figures[f"jwt_required route, {label}"] = _per_request_us(client, "/_bench/auth", headers, args.requests)
            with app.app_context():
                started = time.perf_counter()
                for _ in range(args.requests):
                    verify_access_token(token)
                figures[f"verify_access_token alone, {label}"] = (time.perf_counter() - started) / args.requests * 1e6
            app.extensions["db"].close()
    started = time.perf_counter()
    password_hash = hash_password("correct horse battery")
    hash_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    verify_password(password_hash, "correct horse battery")
    verify_ms = (time.perf_counter() - started) * 1000
    print(f"command: python bench/auth.py --requests {args.requests}")
    for name, micros in figures.items():
        print(f"{name}: {micros:,.0f} µs/request ({1e6 / micros:,.0f} /s, one thread)")
    print(f"scrypt hash: {hash_ms:.0f} ms   scrypt verify: {verify_ms:.0f} ms")


if __name__ == "__main__":
    main()
