"""A loopback stand-in for Upstox's Market Data Feed V3: the authorise endpoint and the WebSocket itself.

`GET /v3/feed/market-data-feed/authorize` answers a single-use `authorized_redirect_uri` (401 for a token the
fake does not accept); the WebSocket at that URI takes binary JSON subscription frames (`sub`,
`change_mode`, `unsub`), answers a `sub` or `change_mode` with an `initial_feed` snapshot of those keys, and
sends `market_info` first on every connection. Messages are `FeedResponse` protobufs built with the module
generated from services/market_data/upstox_feed_v3.proto. Tests push live ticks and phases, drop
connections, and read what each connection received; `stream_hz` makes it tick every subscribed key by
itself (the benchmark), `per_message` keys in each frame. A subscription beyond the limits is recorded in
`violations` and closes the connection (policy violation).
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import simple_websocket
from werkzeug.wrappers import Request
from wsproto.frame_protocol import CloseReason

from services.market_data import upstox_feed_v3_pb2 as pb
from services.market_data.stream_plan import StreamLimits, within_limits

AUTHORIZE = "/v3/feed/market-data-feed/authorize"
SOCKET = "/v3/feed/market-data-feed/socket"


def now_ms() -> int:
    """Epoch milliseconds now."""
    return int(time.time() * 1000)


def full_feed(ltp: float, cp: float, volume: int, ltt: int, index: bool = False, day: tuple | None = None) -> pb.Feed:
    """A `full` Feed: LTPC, the day's OHLC ("1d"; open/high/low around ltp unless given) and, for stocks, vtt."""
    o, h, low = day or (cp, max(cp, ltp) + 1, min(cp, ltp) - 1)
    ltpc = pb.LTPC(ltp=ltp, ltt=ltt, ltq=10, cp=cp)
    ohlc = pb.MarketOHLC(
        ohlc=[
            pb.OHLC(interval="1d", open=o, high=h, low=low, close=ltp, vol=volume, ts=ltt),
            pb.OHLC(interval="I1", open=ltp, high=ltp, low=ltp, close=ltp, vol=10, ts=ltt),
        ]
    )
    if index:
        return pb.Feed(
            fullFeed=pb.FullFeed(indexFF=pb.IndexFullFeed(ltpc=ltpc, marketOHLC=ohlc)), requestMode=pb.full_d5
        )
    market = pb.MarketFullFeed(ltpc=ltpc, marketOHLC=ohlc, atp=ltp, vtt=volume, tbq=1000, tsq=1200)
    return pb.Feed(fullFeed=pb.FullFeed(marketFF=market), requestMode=pb.full_d5)


def ltpc_feed(ltp: float, cp: float, ltt: int) -> pb.Feed:
    """An `ltpc` Feed."""
    return pb.Feed(ltpc=pb.LTPC(ltp=ltp, ltt=ltt, ltq=5, cp=cp), requestMode=pb.ltpc)


def response(kind: int, feeds: dict[str, pb.Feed] | None = None, segments: dict[str, str] | None = None) -> bytes:
    """One serialized FeedResponse of `kind` (pb.initial_feed, pb.live_feed, pb.market_info)."""
    message = pb.FeedResponse(type=kind, currentTs=now_ms())
    for key, feed in (feeds or {}).items():
        message.feeds[key].CopyFrom(feed)
    for segment, status in (segments or {}).items():
        message.marketInfo.segmentStatus[segment] = pb.MarketStatus.Value(status)
    return message.SerializeToString()


@dataclass
class Connection:
    """One feed WebSocket as the fake sees it."""

    subscriptions: dict[str, str] = field(default_factory=dict)  # key -> mode
    frames: list[dict[str, Any]] = field(default_factory=list)  # the JSON requests received, in order
    outbox: queue.Queue = field(default_factory=queue.Queue)
    sent: int = 0
    text_frames: int = 0  # requests that came as text frames (Upstox expects binary)
    closed: bool = False
    close_code: int | None = None  # the client's close frame's code (None: the connection just broke)
    ws: Any = None


@dataclass
class FakeFeed:
    """The feed's state: issued codes, connections, the market phase, the instruments' last prices."""

    prices: dict[str, tuple[str, float, float, int]]  # shared with the REST fake: key -> symbol, ltp, change, volume
    segment_status: dict[str, str] = field(
        default_factory=lambda: {"NSE_EQ": "NORMAL_OPEN", "NSE_INDEX": "NORMAL_OPEN"}
    )
    limits: StreamLimits = field(default_factory=StreamLimits)
    stream_hz: float = 0.0
    per_message: int = 100
    codes: set[str] = field(default_factory=set)
    connections: list[Connection] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)
    authorizations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests do ---------------------------------------------------------------------------------

    def live(self) -> list[Connection]:
        """The open connections."""
        return [c for c in self.connections if not c.closed]

    def push(self, payload: bytes) -> None:
        """Send a frame to every open connection."""
        for connection in self.live():
            connection.outbox.put(payload)

    def tick(self, key: str, ltp: float, volume: int | None = None) -> None:
        """A live tick of `key` (in the mode each connection subscribed it), stamped now."""
        symbol, old_ltp, change, old_volume = self.prices[key]
        self.prices[key] = (symbol, ltp, round(change + ltp - old_ltp, 2), volume or old_volume)
        for connection in self.live():
            mode = connection.subscriptions.get(key)
            if mode is not None:
                connection.outbox.put(response(pb.live_feed, {key: self._feed(key, mode)}))

    def phase(self, status: str, segment: str = "NSE_EQ") -> None:
        """The exchange moves a segment to `status` (NORMAL_OPEN, NORMAL_CLOSE, ...): market_info to everyone."""
        self.segment_status[segment] = status
        self.push(response(pb.market_info, segments=self.segment_status))

    def drop(self) -> None:
        """Cut every connection without a close frame (a network failure)."""
        for connection in self.live():
            connection.closed = True
            if connection.ws is not None:
                connection.ws.connected = False
                with contextlib.suppress(OSError):  # already gone
                    connection.ws.sock.shutdown(socket.SHUT_RDWR)

    # -- the server side -----------------------------------------------------------------------------

    def authorize(self, base: str) -> dict[str, Any]:
        """The authorise endpoint's success body with a fresh single-use code."""
        code = uuid.uuid4().hex
        with self.lock:
            self.codes.add(code)
            self.authorizations += 1
        uri = f"{base.replace('http', 'ws', 1)}{SOCKET}?requestId={uuid.uuid4()}&code={code}"
        return {"status": "success", "data": {"authorized_redirect_uri": uri, "authorizedRedirectUri": uri}}

    def accept(self, environ: dict[str, Any]) -> bool:
        """Take a connection whose code is valid (once); False otherwise."""
        code = Request(environ).args.get("code", "")
        with self.lock:
            if code not in self.codes:
                return False
            self.codes.discard(code)
        ws = simple_websocket.Server(environ)
        connection = Connection(ws=ws)
        self.connections.append(connection)
        try:
            self._serve(connection)
        finally:
            if ws.close_reason != CloseReason.NO_STATUS_RCVD:
                connection.close_code = int(ws.close_reason)
            connection.closed = True  # after the code: a test that waits for `closed` then reads the code
            if ws.connected:
                ws.close()
            ws.thread.join(timeout=2)  # its reader closes the socket: nothing is left for the HTTP server to read
        return True

    def _serve(self, connection: Connection) -> None:
        ws = connection.ws
        ws.send(response(pb.market_info, segments=self.segment_status))
        next_round = time.monotonic()
        while ws.connected and not connection.closed:
            try:
                frame = ws.receive(timeout=0.005)
            except simple_websocket.ConnectionClosed:
                return
            if frame is not None:
                self._request(connection, frame)
            while not connection.outbox.empty():
                ws.send(connection.outbox.get())
                connection.sent += 1
            if self.stream_hz and connection.subscriptions and time.monotonic() >= next_round:
                next_round += 1 / self.stream_hz
                self._stream_round(connection)

    def _request(self, connection: Connection, frame: Any) -> None:
        if not isinstance(frame, bytes):
            connection.text_frames += 1
        request = json.loads(frame)
        connection.frames.append(request)
        method, data = request["method"], request.get("data", {})
        keys = data.get("instrumentKeys", [])
        if method == "unsub":
            for key in keys:
                connection.subscriptions.pop(key, None)
            return
        mode = data.get("mode", "ltpc")
        for key in keys:
            connection.subscriptions[key] = mode
        if not within_limits(connection.subscriptions, self.limits):
            self.violations.append({"method": method, "mode": mode, "keys": str(len(keys))})
            connection.ws.close(reason=1008, message="subscription limit exceeded")
            return
        known = {key: self._feed(key, mode) for key in keys if key in self.prices}
        connection.ws.send(response(pb.initial_feed, known))

    def _feed(self, key: str, mode: str) -> pb.Feed:
        _, ltp, change, volume = self.prices[key]
        if mode == "ltpc":
            return ltpc_feed(ltp, ltp - change, now_ms())
        return full_feed(ltp, ltp - change, volume, now_ms(), index=key.startswith("NSE_INDEX"))

    def _stream_round(self, connection: Connection) -> None:
        """Every subscribed key ticks once: a random step, packed `per_message` keys to a frame."""
        keys = list(connection.subscriptions)
        for first in range(0, len(keys), self.per_message):
            feeds = {}
            for key in keys[first : first + self.per_message]:
                if key not in self.prices:
                    continue
                symbol, ltp, change, volume = self.prices[key]
                step = round(ltp * random.choice((-0.0005, 0.0, 0.0005)), 2)
                self.prices[key] = (symbol, round(ltp + step, 2), round(change + step, 2), volume + 100)
                feeds[key] = self._feed(key, connection.subscriptions[key])
            connection.ws.send(response(pb.live_feed, feeds))
            connection.sent += 1
