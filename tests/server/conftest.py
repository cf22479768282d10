"""Server fixtures: the app under gunicorn with our worker (backend/gunicorn_worker.py) on a free loopback port,
on a small seeded database of its own, and raw HTTP clients that can pick their source address."""

from __future__ import annotations

import http.client
import os
import select
import socket
import time
from pathlib import Path

import pytest

from backend.local_app import LocalApp
from backend.settings import DatabaseConfig
from tests.conftest import migrate_and_seed

ROOT = Path(__file__).resolve().parents[2]
SERVER_DB = "test_server"
# Every loopback address reaches the server: a second one stands for another client machine.
CLIENT, OTHER_CLIENT = "127.0.0.1", "127.0.0.2"
SERVER_ENV = {
    "APP_ENV": "test",
    "LOG_LEVEL": "INFO",
    "WEB_CONCURRENCY": "1",
    "SIM_ALWAYS_OPEN": "1",
    "ENABLE_EOD_SCHEDULER": "0",
    "NEWS_FEEDS": "",
    "GUNICORN_GRACEFUL_TIMEOUT": "20",  # the default: an idle shutdown must take far less
}


@pytest.fixture(scope="session")
def server_db(make_database) -> DatabaseConfig:
    """A migrated database with two days of history, for the servers of these tests."""
    return migrate_and_seed(make_database(SERVER_DB), days=2)


def server_env(config: DatabaseConfig, **settings: str) -> dict[str, str]:
    """The environment of a test server: ours without database or Redis settings, then SERVER_ENV and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_", "REDIS_"))}
    return {**env, **SERVER_ENV, "DATABASE_URL": config.url(), **settings}


def start_server(config: DatabaseConfig, log_path: Path, **settings: str) -> LocalApp:
    """gunicorn with the app on a free port, started and answering."""
    return LocalApp(server_env(config, **settings), log_path).start()


@pytest.fixture
def new_server(server_db, tmp_path):
    """Factory: a server of this test with the given settings; stopped after the test."""
    servers: list[LocalApp] = []

    def start(**settings: str) -> LocalApp:
        servers.append(start_server(server_db, tmp_path / f"server{len(servers)}.log", **settings))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def module_server(server_db, tmp_path_factory) -> LocalApp:
    """One server with the default settings for all the tests of a module; stopped after them."""
    server = start_server(server_db, tmp_path_factory.mktemp("server") / "gunicorn.log")
    yield server
    server.stop()


def open_socket(server: LocalApp, source: str = CLIENT) -> socket.socket:
    """A TCP connection to `server` from the loopback address `source`."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def http_connection(server: LocalApp, source: str = CLIENT) -> http.client.HTTPConnection:
    """A keep-alive HTTP client connection to `server` from `source`."""
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=(source, 0))


def get(conn: http.client.HTTPConnection, path: str = "/health") -> http.client.HTTPResponse:
    """GET `path` on the connection; the response with its body read."""
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response


def read_response(sock: socket.socket) -> tuple[http.client.HTTPResponse, bytes]:
    """The next response on a raw socket, and its body."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response, response.read()


def closed_by_server(sock: socket.socket, within_s: float) -> bool:
    """True when the server closes (or resets) the connection within `within_s` seconds, sending nothing."""
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def closed_among(socks: list[socket.socket], within_s: float) -> list[socket.socket]:
    """The sockets of `socks` that the server closes (or resets) within `within_s` seconds."""
    closed: list[socket.socket] = []
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([s for s in socks if s not in closed], [], [], left)
        closed += [sock for sock in readable if closed_by_server(sock, within_s=0.01)]
    return closed
