"""Smoke tests against real server processes: gunicorn + gevent (production) and the eventlet dev server.

A python-socketio client on the WebSocket transport subscribes to two symbols and must receive
price updates for those only, index updates, and end with the price the server persisted once the
simulator stops (SIM_MAX_TICKS). The WebSocket handshake must not negotiate per-message deflate.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from backend.local_mariadb import free_port
from controller.sql import fetch_all

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBED = ["RELIANCE", "TCS"]
TICKS = 40
TICK_S = 0.2


def server_env(db_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_", "SOCKETIO_"))}
    env.update(
        {
            "DATABASE_URL": db_url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "APP_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "ALLOWED_ORIGINS": f"http://127.0.0.1:{port}",
            "SIM_ALWAYS_OPEN": "1",
            "SIM_TICK_INTERVAL_S": str(TICK_S),
            "SIM_MAX_TICKS": str(TICKS),
            "FANOUT_INTERVAL_MS": "50",
            "QUOTE_WRITE_INTERVAL_S": "0.25",
            "ENABLE_EOD_SCHEDULER": "0",
        }
    )
    return env


COMMANDS = {
    "gunicorn-gevent": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi:app"],
    "eventlet-serve": [sys.executable, "-m", "backend", "serve"],
}


@pytest.fixture(params=list(COMMANDS))
def server(request, rt_db_config, tmp_path):
    port = free_port()
    log = (tmp_path / "server.log").open("w+")
    process = subprocess.Popen(
        COMMANDS[request.param],
        cwd=ROOT,
        env=server_env(rt_db_config.url(), port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(f"server did not start: {log.read()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def handshake_headers(url: str) -> str:
    """The raw response to a WebSocket upgrade that offers permessage-deflate."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            (
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                f"Origin: {url}\r\n\r\n"
            ).encode()
        )
        return sock.recv(4096).decode(errors="replace").split("\r\n\r\n")[0]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_streams_subscribed_prices_indices_and_converges(server, rt_conn, transport):
    """A WebSocket client gets its events as frames prepared once for all recipients; a long-polling one the same
    events packet by packet (services/realtime/websocket_frames.py)."""
    prices: dict[str, list[dict]] = {}
    indices: list[dict] = []
    lock = threading.Lock()
    client = socketio.Client(reconnection=False)

    @client.on("price_update")
    def on_price(data):
        with lock:
            prices.setdefault(data["symbol"], []).append(data)

    @client.on("indices_update")
    def on_indices(data):
        indices.append(data)

    client.connect(server, transports=[transport], wait_timeout=10)
    try:
        ack = client.call("subscribe", {"symbols": SUBSCRIBED + ["NOT-A-STOCK"]}, timeout=10)
        assert ack == {"subscribed": SUBSCRIBED, "unknown": ["NOT-A-STOCK"], "prices_batch": False}
        deadline = time.monotonic() + TICKS * TICK_S + 15
        final, previous = {}, None
        while time.monotonic() < deadline:  # until the market froze (SIM_MAX_TICKS) and the client has it
            time.sleep(0.5)
            rows = fetch_all(
                rt_conn,
                "SELECT s.symbol, q.ltp, q.as_of FROM stock_quotes q JOIN stocks s "
                "USING (stock_id) WHERE s.symbol IN (%s, %s)",
                SUBSCRIBED,
            )
            frozen, previous = rows == previous, rows
            with lock:
                last = {s: updates[-1] for s, updates in prices.items()}
            final = {r["symbol"]: float(r["ltp"]) for r in rows}
            if frozen and len(last) == 2 and {s: u["ltp"] for s, u in last.items()} == final:
                break
    finally:
        client.disconnect()
    assert set(prices) == set(SUBSCRIBED)  # nothing for symbols the client did not subscribe to
    assert {s: updates[-1]["ltp"] for s, updates in prices.items()} == final  # ends with the persisted price
    assert len({u["as_of"] for u in prices["RELIANCE"]}) >= 3  # live ticks after the subscription snapshot
    assert indices and len(indices[-1]["data"]) == 9 and indices[-1]["status"] == "live"
    assert "Sec-WebSocket-Extensions" not in handshake_headers(server)
    assert "101 Switching Protocols" in handshake_headers(server)


@pytest.mark.parametrize("server", ["gunicorn-gevent"], indirect=True)
def test_keep_alive_connections_serve_requests_and_close_when_idle(server):
    host, port = server.removeprefix("http://").split(":")
    request = f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):  # one connection, several requests
            sock.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            headers = dict(line.decode().split(": ", 1) for line in iter(reader.readline, b"\r\n"))
            reader.read(int(headers["Content-Length"].strip()))
        started = time.monotonic()
        assert sock.recv(65536) == b""  # idle: the server closes the connection after gunicorn's keepalive
        assert 4 < time.monotonic() - started < 10
