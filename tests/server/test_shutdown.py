"""SIGTERM of a real gunicorn process (our worker): it stops accepting at once, closes idle keep-alive
connections and Socket.IO streams, answers requests in flight with `Connection: close`, refuses orders with
503 "shutting_down" once the matcher has stopped, and exits within 5 s when idle (graceful timeout: 20 s)."""

from __future__ import annotations

import json
import signal
import socket
import time

import requests
import socketio

from tests.server.conftest import closed_among, get, http_connection, open_socket, read_response
from tests.waiting import wait_for

IDLE_EXIT_LIMIT_S = 5.0
MATCHER_STOPPED = "realtime services stopped"


def _refused(server) -> bool:
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_an_idle_server_closes_its_connections_and_exits_within_5_seconds(new_server):
    server = new_server()
    idle = [http_connection(server) for _ in range(20)]
    for conn in idle:
        assert get(conn).status == 200  # kept alive, now idle
    streams = [socketio.Client(reconnection=False) for _ in range(2)]
    for client in streams:
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
    server.signal(signal.SIGTERM)
    started = time.monotonic()
    assert server.wait(timeout_s=15) == 0
    took = time.monotonic() - started
    assert took < IDLE_EXIT_LIMIT_S, f"an idle server took {took:.1f} s to exit"
    assert len(closed_among([conn.sock for conn in idle], within_s=0.5)) == len(idle)
    wait_for(lambda: not any(client.connected for client in streams), 5)
    log = server.log()
    assert "shutdown complete:" in log and "socket.io streams" in log and "Traceback" not in log
    print(f"idle exit after SIGTERM: {took:.2f} s")


def _login_head(length: int) -> bytes:
    return (
        f"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _rest_of_head(token: str, body: bytes) -> bytes:
    return (
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_requests_in_flight_are_answered_with_connection_close_and_orders_are_refused(new_server):
    server = new_server(HEADER_TIMEOUT_S="10")
    token = requests.post(
        server.url + "/auth/register",
        json={"email": "closing@example.com", "password": "correct horse battery", "name": "Closing"},
        timeout=10,
    ).json()["data"]["access_token"]
    login = json.dumps({"email": "closing@example.com", "password": "wrong password"}).encode()
    in_flight = open_socket(server)
    in_flight.sendall(_login_head(len(login)))  # the app is running this request: it waits for the body
    arriving = {}  # requests whose heads are still arriving when SIGTERM comes
    for line in ("POST /orders", "PATCH /orders/1", "DELETE /orders/1"):
        arriving[line] = open_socket(server)
        arriving[line].sendall(f"{line} HTTP/1.1\r\nHost: x\r\n".encode())
    idle = http_connection(server)
    assert get(idle).status == 200

    server.signal(signal.SIGTERM)
    wait_for(lambda: _refused(server), 2)  # nothing is accepted after SIGTERM
    assert closed_among([idle.sock], within_s=2)  # idle keep-alive connections are closed
    wait_for(lambda: MATCHER_STOPPED in server.log(), 5)

    in_flight.sendall(login)
    response, _ = read_response(in_flight)
    assert response.status == 401 and response.getheader("Connection") == "close"

    order = json.dumps({"symbol": "RELIANCE", "side": "BUY", "order_type": "MARKET", "quantity": 1}).encode()
    for line, body in (("POST /orders", order), ("PATCH /orders/1", b'{"quantity": 2}')):
        arriving[line].sendall(_rest_of_head(token, body))
        response, raw = read_response(arriving[line])
        assert response.status == 503 and response.getheader("Connection") == "close", line
        assert int(response.getheader("Retry-After")) > 0
        error = json.loads(raw)["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE" and error["details"] == {"reason": "shutting_down"}
    arriving["DELETE /orders/1"].sendall(_rest_of_head(token, b""))
    response, _ = read_response(arriving["DELETE /orders/1"])  # cancelling goes on (this order does not exist)
    assert response.status == 404 and response.getheader("Connection") == "close"
    assert server.wait(timeout_s=IDLE_EXIT_LIMIT_S) == 0
