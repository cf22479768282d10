"""Socket.IO fan-out of ticks, conflated: at most one `price_update` per symbol room per interval
(and one `price_updates` list per batch-mode connection).

The tick-bus subscriber only records the latest quote per symbol and wakes the loop; the loop
emits what is pending, then sleeps FANOUT_INTERVAL_MS before the next pass, so a busy symbol sends
its latest value once per interval and a quiet feed adds no delay. Indices go out as one
`indices_update` to everyone. `prices_batch` (every quote that changed, market-wide) goes out at
PRICES_BATCH_INTERVAL_MS to the connections in the `prices_batch` room only: those that never subscribed
to symbols (existing dashboard clients that only listen to it) and those that asked for it; at 2,000
instruments it is hundreds of kilobytes per connection per batch, which a client that watches 20 symbols
does not need. Rooms nobody joined in this process are skipped: every process fans out to its own clients.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from backend.extensions import socketio
from services.market import market_clock
from services.market.live_price_cache import Quote
from services.realtime import payloads, websocket_frames
from services.realtime.batch_subscriptions import batch_subscriptions
from services.realtime.socketio_packets import RawJson
from services.realtime.tick_bus import TickBatch
from services.realtime.websocket_frames import Outgoing
from utils import metrics
from utils.timeutil import now_iso_ist

log = logging.getLogger(__name__)
_YIELD_EVERY = 50  # emits between cooperative yields, so sends start while the pass goes on


PRICES_BATCH_ROOM = "prices_batch"


def symbol_room(symbol: str) -> str:
    """The room of one symbol's subscribers."""
    return f"symbol:{symbol}"


def emit(event: str, payload: object, to: str | None = None) -> None:
    """Emit on the default namespace to this process's clients only, and count it.

    Every process receives every tick from the bus and computes the market-wide events itself, so these
    emits bypass the Socket.IO message queue (which would deliver each one once per process).
    """
    socketio.emit(event, payload, to=to, ignore_queue=True)
    metrics.SOCKETIO_EMITS.labels(event).inc()


def room_members(room: str) -> dict[str, str]:
    """This process's clients in `room`: Socket.IO sid -> Engine.IO sid."""
    return socketio.server.manager.rooms.get("/", {}).get(room) or {}


def room_has_members(room: str) -> bool:
    """True when this process has clients in `room`."""
    return bool(room_members(room))


class Fanout:
    """Conflating emitter for one app; `on_batch` is its tick-bus subscriber."""

    def __init__(self, app: Flask, interval_s: float, batch_interval_s: float) -> None:
        self.app = app
        self.interval_s = interval_s
        self.batch_interval_s = batch_interval_s
        self._lock = threading.Lock()
        self._stocks: dict[str, Quote] = {}
        self._batch: dict[str, Quote] = {}
        self._indices: dict[str, Quote] = {}
        self._sent_as_of: dict[str, object] = {}
        self._wake = None
        self._running = False

    def start(self) -> None:
        """Start the emit loop."""
        self._wake = socketio.server.eio.create_event()
        self._running = True
        socketio.start_background_task(self._loop)

    def stop(self) -> None:
        """Stop after the current pass."""
        self._running = False
        if self._wake is not None:
            self._wake.set()

    def on_batch(self, batch: TickBatch) -> None:
        """Tick-bus subscriber: keep the latest quote per instrument and wake the loop."""
        with self._lock:
            if batch.kind == "indices":
                self._indices.update((q.symbol, q) for q in batch.quotes)
            else:
                for quote in batch.quotes:
                    if self._sent_as_of.get(quote.symbol) != quote.as_of:
                        self._stocks[quote.symbol] = quote
                        if self.batch_interval_s:
                            self._batch[quote.symbol] = quote
        if self._wake is not None:
            self._wake.set()

    def _loop(self) -> None:
        next_batch = time.monotonic() + self.batch_interval_s
        while self._running:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            with self.app.app_context():
                started = time.perf_counter()
                try:
                    self.emit_pending()
                    if self.batch_interval_s and time.monotonic() >= next_batch:
                        next_batch = time.monotonic() + self.batch_interval_s
                        self.emit_prices_batch()
                except Exception:  # a failed pass must not end the stream: the next pass sends what moves next
                    log.exception("fan-out pass failed")
                metrics.FANOUT_PASS_SECONDS.observe(time.perf_counter() - started)
            socketio.sleep(self.interval_s)

    def emit_pending(self) -> int:
        """Emit every pending `price_update` and, when indices moved, one `indices_update`; return emits."""
        with self._lock:
            stocks, self._stocks = self._stocks, {}
            indices, self._indices = self._indices, {}
            for symbol, quote in stocks.items():
                self._sent_as_of[symbol] = quote.as_of
        directory = payloads.directory()
        batched = batch_subscriptions().recipients(stocks)
        wanted = set().union(*batched.values())
        encoded: dict[str, str] = {}  # each payload is JSON-encoded once, whoever receives it
        per_client: dict[str, list[Outgoing]] = {}  # Engine.IO sid -> its price_update events of this pass
        for symbol, quote in stocks.items():
            members = room_members(symbol_room(symbol))
            if not members and symbol not in wanted:
                continue
            encoded[symbol] = payloads.price_update_json(quote, directory.stock_ids.get(symbol))
            if members:
                packet = websocket_frames.event_packet("price_update", encoded[symbol])
                for eio_sid in members.values():
                    per_client.setdefault(eio_sid, []).append(packet)
        emitted = 0
        # Client by client: each one's packets of the pass are queued together, so its connection writes them in
        # one go (services/realtime/websocket_frames.py), whatever the universe size spreads its symbols over.
        next_yield = _YIELD_EVERY
        for eio_sid, packets in per_client.items():
            websocket_frames.send_packets(eio_sid, packets)
            emitted += len(packets)
            if emitted >= next_yield:
                next_yield = emitted + _YIELD_EVERY
                socketio.sleep(0)
        metrics.SOCKETIO_EMITS.labels("price_update").inc(emitted)
        for sid, symbols in batched.items():
            emit("price_updates", RawJson("[" + ",".join(encoded[s] for s in symbols) + "]"), to=sid)
            emitted += 1
            if emitted >= next_yield:
                next_yield = emitted + _YIELD_EVERY
                socketio.sleep(0)
        if indices:
            self.emit_indices()
            emitted += 1
        return emitted

    def emit_indices(self, to: str | None = None) -> None:
        """One `indices_update` with every index the live cache holds, in display order."""
        directory = payloads.directory()
        cached = self.app.extensions["live_prices"]["indices"].snapshot()
        ordered = [cached[name] for name in directory.index_order if name in cached]
        status = market_clock.current_status()
        emit(
            "indices_update",
            payloads.indices_update(ordered, directory.index_tags, status.is_market_open, now_iso_ist()),
            to=to,
        )

    def emit_prices_batch(self) -> None:
        """One `prices_batch` to the connections that receive it: the quotes that changed since the last batch."""
        with self._lock:
            batch, self._batch = self._batch, {}
        if batch and room_has_members(PRICES_BATCH_ROOM):
            ids = payloads.directory().stock_ids
            items = ",".join(payloads.price_update_json(q, ids.get(s)) for s, q in batch.items())
            emit("prices_batch", RawJson("[" + items + "]"), to=PRICES_BATCH_ROOM)
