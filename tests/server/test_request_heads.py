"""Slow request heads against the real server (gunicorn + our worker, real sockets): a head must arrive whole
within HEADER_TIMEOUT_S, a peer's connections without a whole head yet are capped, and connections that have
sent one (kept-alive HTTP, WebSocket) are never refused for it; a WebSocket's end closes its connection."""

from __future__ import annotations

import time

import pytest
import socketio
import websocket

from tests.server.conftest import (
    CLIENT,
    OTHER_CLIENT,
    closed_among,
    closed_by_server,
    get,
    http_connection,
    open_socket,
    read_response,
    start_server,
)

HEADER_TIMEOUT_S = 1.0
CAP = 20
KEEPALIVE_S = 5  # gunicorn.conf.py


@pytest.fixture(scope="module")
def server(server_db, tmp_path_factory):
    app = start_server(
        server_db,
        tmp_path_factory.mktemp("heads") / "server.log",
        HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        HEADER_PENDING_PER_PEER=str(CAP),
    )
    yield app
    app.stop()


def _drip(sock, started: float, until_s: float) -> float | None:
    """Send one header line every 0.2 s for up to `until_s`; the seconds after which the server hung up."""
    try:
        while time.monotonic() - started < until_s:
            sock.sendall(b"X-Slow: yes\r\n")
            time.sleep(0.2)
            sock.settimeout(0.001)
            try:
                if sock.recv(1) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                pass
    except (BrokenPipeError, ConnectionResetError):
        return time.monotonic() - started
    return None


def test_a_slow_loris_is_dropped_when_its_head_is_late(server):
    sock = open_socket(server)
    started = time.monotonic()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    dropped_after = _drip(sock, started, until_s=5 * HEADER_TIMEOUT_S)
    assert dropped_after is not None, "a connection sending a header line every 0.2 s was kept for 5 s"
    assert HEADER_TIMEOUT_S - 0.1 <= dropped_after < HEADER_TIMEOUT_S + 1.0


def test_a_silent_connection_is_dropped_after_the_header_timeout(server):
    sock = open_socket(server)
    started = time.monotonic()
    assert closed_by_server(sock, within_s=HEADER_TIMEOUT_S + 1.0)
    assert time.monotonic() - started >= HEADER_TIMEOUT_S - 0.1


def test_a_kept_alive_connection_may_idle_longer_but_its_next_head_is_due_within_the_idle_timeout(server):
    conn = http_connection(server)
    assert get(conn).status == 200
    time.sleep(HEADER_TIMEOUT_S + 0.5)  # idle longer than the header timeout: the idle timeout applies
    assert get(conn).status == 200
    started = time.monotonic()
    conn.sock.sendall(b"GET /health HTTP/1.1\r\n")  # then a slow head on the same connection
    dropped_after = _drip(conn.sock, started, until_s=2 * KEEPALIVE_S)
    assert dropped_after is not None and dropped_after < KEEPALIVE_S + 1.0


def test_the_per_peer_cap_holds_while_other_clients_are_served_quickly(server):
    slow = []
    for _ in range(CAP + 10):
        sock = open_socket(server, OTHER_CLIENT)
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # and never more
        slow.append(sock)
    assert len(closed_among(slow, within_s=0.3)) == 10  # the ones over the cap, closed at once
    assert closed_by_server(open_socket(server, OTHER_CLIENT), within_s=0.3)  # that address is full
    latencies = []
    for _ in range(20):  # meanwhile another address is served at once
        started = time.monotonic()
        assert get(http_connection(server, CLIENT)).status == 200
        latencies.append(time.monotonic() - started)
    assert max(latencies) < 0.5, latencies
    assert len(closed_among(slow, within_s=HEADER_TIMEOUT_S)) == len(slow)  # the held ones: the header timeout
    assert get(http_connection(server, OTHER_CLIENT)).status == 200


def test_hundreds_of_kept_alive_connections_from_one_address_are_not_refused(server):
    connections = [http_connection(server, OTHER_CLIENT) for _ in range(200)]  # ten times the cap
    started = time.monotonic()
    for conn in connections:
        assert get(conn).status == 200
    for conn in connections:  # all still open: a second request on each (within the idle timeout)
        response = get(conn)
        assert response.status == 200 and response.getheader("Connection") != "close"
    assert time.monotonic() - started < KEEPALIVE_S
    sock = open_socket(server, OTHER_CLIENT)  # and a new connection from that address is served
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock)[0].status == 200
    for conn in connections:
        conn.close()


def test_websockets_from_one_address_do_not_count(server):
    clients = []
    for _ in range(CAP + 5):  # more WebSockets from one address than the cap
        client = socketio.Client(reconnection=False)
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
        clients.append(client)
    try:
        assert all(client.connected for client in clients)
        assert get(http_connection(server, CLIENT)).status == 200
    finally:
        for client in clients:
            client.disconnect()


def test_the_connection_ends_with_its_websocket(server):
    """What the client sends after the WebSocket (its close frame) is not read as an HTTP request."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40")
    while not ws.recv().startswith("40"):  # Socket.IO connected (the connect handler's events may come first)
        pass
    ws.send("41")  # then leave as python-socketio's disconnect does: Socket.IO, then Engine.IO close
    ws.send("1")
    while ws.recv_data(control_frame=True)[0] != websocket.ABNF.OPCODE_CLOSE:
        pass  # the server closes the WebSocket; the client answers with its (masked) close frame
    after = b""
    while chunk := ws.sock.recv(4096):  # until the server closes the TCP connection
        after += chunk
    assert after == b""  # no "400 Bad Request" for the close frame
    assert "Invalid HTTP method" not in server.log()
