"""WebSocket frames written together: the frames Engine.IO sends a connection in one go leave in one `sendall`.

Engine.IO's writer task takes every packet queued for a connection and sends each as a frame, and simple-websocket
writes each frame with its own `send` call. On a fan-out server that call was the largest share of the worker's CPU
(docs/BENCHMARKS.md, fan-out): the kernel's cost per call dwarfs the bytes. Here the
frames are encoded as they come and written once the writer has handed over its batch (in a task that runs when
the writer next waits), so a client that receives twenty price updates of one pass costs one system call.

The fan-out prepares each payload once (`event_packet`: its Socket.IO text and its WebSocket frame) and queues a
client's events of a pass together (`send_packets`): to a WebSocket client as one item of its Engine.IO queue whose
frames the connection writes as they are, at once, from its writer (no per-message queueing, logging or framing,
and no task to start), to a long-polling client packet by packet with the server's `_send_eio_packet`, as
Socket.IO's own room emit does. Frames are written here
(RFC 6455: a server's frames are unmasked) rather than by wsproto: no extension is ever negotiated, since the
WebSocket handshake never sees the client's offer (services/realtime/websocket_manager.py), so a text frame is its
two-to-ten-byte header and the UTF-8 text.

Written against python-socketio 5.18.1, python-engineio 4.15.1 (gevent driver) and simple-websocket 1.1.0: Engine.IO
builds each WebSocket connection with the class in its server's `_async["websocket"]` and calls its `send(text)` and
`close()`; the simple-websocket connection (`.ws`) encodes frames with its wsproto connection (`.ws.ws`) and writes
them to its socket (`.ws.sock`); Socket.IO's manager sends a prepared packet with the server's
`_send_eio_packet(eio_sid, packet)`; Engine.IO keeps its connections in `eio.sockets` (sid -> Socket, `upgraded`
once on WebSocket), whose writer passes each queued item's `encode()` to `send`. tests/test_extension_hooks.py
fails when that changes; anything but gevent keeps the library's own connection class.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from engineio import packet as eio_packet
from flask_socketio import SocketIO
from wsproto.events import Message

from backend.extensions import socketio
from services.realtime.socketio_packets import event_text

_FIN_TEXT = 0x81  # FIN bit and the text opcode
CLOSE_WAIT_STEPS = 100  # a close waits up to a second (100 x 10 ms) for a write in progress


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One prepared Socket.IO event: its Socket.IO text and the WebSocket frame that carries it."""

    text: str
    frame: bytes

    def packet(self) -> eio_packet.Packet:
        """Its Engine.IO packet, for a long-polling recipient (built when one needs it)."""
        return eio_packet.Packet(eio_packet.MESSAGE, self.text)


def text_frame(text: bytes) -> bytes:
    """A final, unmasked WebSocket text frame (RFC 6455 section 5.2) carrying `text` (UTF-8)."""
    size = len(text)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + text
    if size < 65536:
        return struct.pack("!BBH", _FIN_TEXT, 126, size) + text
    return struct.pack("!BBQ", _FIN_TEXT, 127, size) + text


def event_packet(event: str, payload: str) -> Outgoing:
    """Socket.IO `event` with a JSON text payload on the default namespace, prepared once for every recipient."""
    text = event_text(event, payload)
    return Outgoing(text, text_frame(f"{eio_packet.MESSAGE}{text}".encode()))


class _Frames:
    """Several prepared events queued as one item of a WebSocket client's Engine.IO queue (its writer hands
    `encode()` to the connection's `send`, which writes the frames as they are)."""

    __slots__ = ("frames",)
    packet_type = eio_packet.MESSAGE  # what Engine.IO logs of a queued packet
    data = "<prepared frames>"

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    def encode(self) -> _Frames:
        return self


def send_packets(eio_sid: str, prepared: list[Outgoing]) -> None:
    """Queue prepared events for one client of this process, in order."""
    eio = socketio.server.eio
    connection = eio.sockets.get(eio_sid)
    if connection is not None and connection.upgraded and getattr(eio._async.get("websocket"), "coalescing", False):
        eio.send_packet(eio_sid, _Frames([item.frame for item in prepared]))
        return
    send = socketio.server._send_eio_packet
    for item in prepared:
        send(eio_sid, item.packet())


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
        coalescing = True  # send_packets may queue prepared frames for it

        def __init__(self, handler: Any, server: Any) -> None:
            super().__init__(handler, server)
            self._frames: list[bytes] = []
            self._flushing = False
            self._failed = False

        def send(self, message: str | bytes | _Frames) -> None:
            """Encode one frame (or take prepared ones); they are written with the others of their batch (OSError
            once the connection is gone)."""
            if self._failed or not self.ws.connected:
                raise OSError("WebSocket connection closed")
            if isinstance(message, _Frames):
                self._frames.extend(message.frames)
            elif isinstance(message, bytes):
                self._frames.append(self.ws.ws.send(Message(data=message)))
            else:
                self._frames.append(text_frame(str(message).encode()))
            if self._flushing:  # a write is due or under way: it takes these frames too
                return
            self._flushing = True
            if isinstance(message, _Frames):  # a whole batch already: write it now, from the connection's writer
                self._flush()
            else:  # more may follow from the writer's batch: write them together once it waits
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
