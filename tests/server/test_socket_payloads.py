"""Socket.IO packets are decoded with the HTTP bodies' nesting limit (64 levels): a client sending deeper JSON,
or a packet that does not decode at all, is disconnected with one log line, no traceback, and nobody else notices.
Raw WebSocket frames against the real server (a Socket.IO client library cannot even encode such payloads)."""

from __future__ import annotations

import json

import pytest
import socketio
import websocket

from tests.waiting import wait_for


def nested(levels: int) -> str:
    """{"symbols": ...} with `levels` levels in all (the list inside holds `levels` - 2 more lists)."""
    return '{"symbols":[' + "[" * (levels - 2) + "]" * (levels - 2) + "]}"


class RawSocket:
    """A Socket.IO connection spoken frame by frame (Engine.IO 4 over WebSocket)."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
        self.ws.settimeout(10)
        assert self.ws.recv().startswith("0{")  # Engine.IO open
        self.ws.send("40")
        while not self.ws.recv().startswith("40{"):  # Socket.IO connect accepted (market_status comes first)
            pass

    def ack(self, packet_id: int) -> list:
        """The arguments of the ack with this id (other packets, e.g. market_status, are skipped)."""
        prefix = f"43{packet_id}"
        while True:
            frame = self.ws.recv()
            if frame == "2":  # Engine.IO ping
                self.ws.send("3")
            elif frame.startswith(prefix):
                return json.loads(frame[len(prefix) :])

    def closed_by_server(self) -> bool:
        """Read until the server closes the connection; True when it did (False: still open after 10 s)."""
        try:
            while True:
                frame = self.ws.recv()
                if frame == "":
                    return True
        except websocket.WebSocketConnectionClosedException:
            return True
        except websocket.WebSocketTimeoutException:
            return False


@pytest.fixture
def log_offset(module_server):
    return len(module_server.log_path.read_text())


def new_log(module_server, offset: int) -> str:
    return module_server.log_path.read_text()[offset:]


def test_a_payload_at_the_limit_is_served(module_server):
    raw = RawSocket(module_server.url)
    raw.ws.send('421["subscribe",' + nested(64) + "]")
    [ack] = raw.ack(1)
    assert ack["error"]["code"] == "VALIDATION_ERROR"  # decoded fine; the symbols are just not strings
    raw.ws.send('422["subscribe",{"symbols":["TCS"]}]')
    assert raw.ack(2)[0]["subscribed"] == ["TCS"]
    raw.ws.close()


@pytest.mark.parametrize(
    "frame",
    [
        '42["subscribe",' + "[" * 100_000 + "]" * 100_000 + "]",
        '421["subscribe",' + nested(65) + "]",
        "4" + "[" * 100_000 + "]" * 100_000,  # Engine.IO message that is no Socket.IO packet
        "4not a packet",
    ],
    ids=["100000-levels", "65-levels", "engineio-level", "garbage"],
)
def test_an_undecodable_packet_disconnects_its_client_quietly(module_server, log_offset, frame):
    bystander = socketio.Client(reconnection=False)
    bystander.connect(module_server.url, transports=["websocket"], wait_timeout=10)
    raw = RawSocket(module_server.url)
    raw.ws.send(frame)
    assert raw.closed_by_server()
    assert bystander.call("subscribe", {"symbols": ["INFY"]}, timeout=10)["subscribed"] == ["INFY"]
    bystander.disconnect()
    wait_for(lambda: "undecodable packet" in new_log(module_server, log_offset), 5)
    log = new_log(module_server, log_offset)
    assert "Traceback" not in log and "RecursionError" not in log and " ERROR " not in log, log
