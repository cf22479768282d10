"""WebSocket frames written together: the frames Engine.IO sends a connection in one go leave in one `sendall`.

Engine.IO's writer task takes every packet queued for a connection and sends each as a frame, and simple-websocket
writes each frame with its own `send` call. On a fan-out server that call was the largest share of the worker's CPU
(docs/BENCHMARKS.md, fan-out): the kernel's cost per call dwarfs the bytes. Here the
frames are encoded as they come and written once the writer has handed over its batch (in a task that runs when
the writer next waits), so a client that receives twenty price updates of one pass costs one system call.

The fan-out queues each client's packets of a pass together (`send_packets`), as Socket.IO's own room emit does
for one packet: one Engine.IO packet built per payload, handed to the server's `_send_eio_packet` per recipient.

Written against python-socketio 5.18.1, python-engineio 4.15.1 (gevent driver) and simple-websocket 1.1.0: Engine.IO
builds each WebSocket connection with the class in its server's `_async["websocket"]` and calls its `send(text)` and
`close()`; the simple-websocket connection (`.ws`) encodes frames with its wsproto connection (`.ws.ws`) and writes
them to its socket (`.ws.sock`); Socket.IO's manager sends a prepared packet with the server's
`_send_eio_packet(eio_sid, packet)`. tests/test_extension_hooks.py fails when that changes; anything but gevent keeps
the library's own connection class.
"""

from __future__ import annotations

from typing import Any

from engineio import packet as eio_packet
from flask_socketio import SocketIO
from socketio import packet
from wsproto.events import Message, TextMessage

from backend.extensions import socketio
from services.realtime.socketio_packets import RawJson, TextPacket

CLOSE_WAIT_STEPS = 100  # a close waits up to a second (100 x 10 ms) for a write in progress


def event_packet(event: str, payload: str) -> eio_packet.Packet:
    """The Engine.IO packet of Socket.IO `event` with a JSON text payload on the default namespace."""
    return eio_packet.Packet(eio_packet.MESSAGE, TextPacket(packet.EVENT, data=[event, RawJson(payload)]).encode())


def send_packets(eio_sid: str, packets: list[eio_packet.Packet]) -> None:
    """Queue prepared packets for one client of this process, in order."""
    send = socketio.server._send_eio_packet
    for prepared in packets:
        send(eio_sid, prepared)


def install(sio: SocketIO) -> bool:
    """Use coalescing WebSocket connections in `sio`'s Engine.IO server (gevent only); True when installed."""
    eio = sio.server.eio
    if eio.async_mode != "gevent" or eio._async.get("websocket") is None:
        return False
    eio._async = {**eio._async, "websocket": coalescing(eio._async["websocket"])}
    return True


def coalescing(base: type) -> type:
    """`base` (Engine.IO's simple-websocket connection) with its frames written in one call per batch."""

    class CoalescingWebSocket(base):
        def __init__(self, handler: Any, server: Any) -> None:
            super().__init__(handler, server)
            self._frames: list[bytes] = []
            self._flushing = False
            self._failed = False

        def send(self, message: str | bytes) -> None:
            """Encode one frame; it is written with the others of its batch (OSError once the connection is gone)."""
            if self._failed or not self.ws.connected:
                raise OSError("WebSocket connection closed")
            event = Message(data=message) if isinstance(message, bytes) else TextMessage(data=str(message))
            self._frames.append(self.ws.ws.send(event))
            if not self._flushing:
                self._flushing = True
                socketio.start_background_task(self._flush)

        def _flush(self) -> None:
            try:
                while self._frames:
                    data = b"".join(self._frames)
                    self._frames.clear()
                    self.ws.sock.sendall(data)
            except OSError:
                self._failed = True
                self._frames.clear()
            finally:
                self._flushing = False

        def close(self) -> None:
            """Write what is pending (or let the running write finish), then close."""
            for _ in range(CLOSE_WAIT_STEPS):
                if not self._flushing:
                    break
                socketio.sleep(0.01)
            if not self._flushing:
                self._flushing = True
                self._flush()
            super().close()

    return CoalescingWebSocket
