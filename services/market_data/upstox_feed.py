"""The Upstox Market Data Feed V3 connection: authorise, connect, subscribe, read, and reconnect.

One connection per app and user (Upstox's limit), held by the leader: `run()` loops until `stop()`:
authorise (GET /v3/feed/market-data-feed/authorize, a fresh single-use wss:// URL each time), connect with
TLS verified (websocket-client, under gevent cooperative through its monkey patching), subscribe what
`subscribe(plan)` asked for (Upstox answers a subscription with the snapshot, `initial_feed`), then read
binary frames and hand each decoded `FeedUpdate` to `on_update`. A closed or failed connection is retried
with exponential backoff (with jitter, up to `max_backoff_s`) and a fresh authorisation, and every
subscription is sent again, so the snapshot comes again too. A refused token (401) is not retried in a
loop: the feed says `token_expired`, checks every few seconds whether a new token was set (`refresh_token`)
and otherwise tries again after `token_retry_s`.

Subscriptions change on the live connection (`sub`, `change_mode`, `unsub`), never by reconnecting.
Not the official SDK's streamer: it hard-codes the URL, starts raw threads and turns TLS verification off.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import websocket

from services.market.live_price_cache import Quote
from services.market_data import upstox_codec
from services.market_data.base import ProviderError, TokenRejected
from services.market_data.provider_token import fingerprint
from services.market_data.stream_plan import StreamLimits, changes, within_limits
from services.market_data.upstox_codec import FeedUpdate, Kind, Mode
from utils import metrics
from utils.timeutil import now_utc

log = logging.getLogger(__name__)
STOP_WAIT_S = 5.0


class UpstoxFeed:
    """Keeps one feed connection up and its subscriptions equal to the latest plan."""

    def __init__(
        self,
        feed_url: Callable[[], str],
        names: Callable[[], Mapping[str, tuple[Kind, str]]],
        known: Callable[[Kind, str], Quote | None],
        on_update: Callable[[FeedUpdate], None],
        refresh_token: Callable[[], str],
        limits: StreamLimits,
        max_backoff_s: float = 60.0,
        min_backoff_s: float = 1.0,
        token_retry_s: float = 300.0,
        token_check_s: float = 5.0,
        idle_timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.feed_url = feed_url
        self.names = names
        self.known = known
        self.on_update = on_update
        self.refresh_token = refresh_token
        self.limits = limits
        self.max_backoff_s = max_backoff_s
        self.min_backoff_s = min_backoff_s
        self.token_retry_s = token_retry_s
        self.token_check_s = token_check_s  # while the token is refused: how often to look for a new one
        self.idle_timeout_s = idle_timeout_s  # silence before a ping; twice in a row ends the connection
        self.ssl_context = ssl_context or ssl.create_default_context()  # verifies the chain and the host name
        self._lock = threading.Lock()  # the connection and its subscriptions
        self._wake = threading.Event()
        self._done = threading.Event()
        self._running = False
        self._ws: websocket.WebSocket | None = None
        self._planned: dict[str, Mode] = {}
        self._subscribed: dict[str, Mode] = {}
        self.connected = False
        self.reason: str | None = "connecting"
        self.reconnects = 0
        self.connections = 0
        self.last_message_at: float | None = None

    # -- control -------------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect and read until `stop()` (call it in a background task, inside an app context)."""
        self._running = True
        self._done.clear()
        attempt = 0
        try:
            while self._running:
                try:
                    received = self._session()
                except TokenRejected as exc:
                    self._token_refused(exc)
                    attempt = 0
                    continue
                except (ProviderError, websocket.WebSocketException, OSError) as exc:
                    if self._running:
                        log.warning("upstox feed: %s: %s", exc.__class__.__name__, str(exc)[:200])
                    received = False
                if not self._running:
                    break
                attempt = 1 if received else attempt + 1
                self._set_disconnected("disconnected")
                self._sleep(self._backoff(attempt))
        finally:
            self._set_disconnected("stopped")
            self._done.set()

    def stop(self) -> None:
        """Close the connection and end `run()` (waits up to a few seconds for it)."""
        self._running = False
        self._wake.set()
        with self._lock:
            ws = self._ws
        if ws is not None:
            _close(ws)
        self._done.wait(STOP_WAIT_S)
        log.info("upstox feed closed")

    def subscribe(self, plan: Mapping[str, Mode]) -> None:
        """Make the connection's subscriptions equal `plan` (key -> mode) now if connected, else on connect."""
        if not within_limits(plan, self.limits):
            raise ValueError(f"subscription plan of {len(plan)} keys exceeds the feed's limits")
        with self._lock:
            self._planned = dict(plan)
            if self._ws is None:
                return
            try:
                self._send_changes(self._ws)
            except (websocket.WebSocketException, OSError) as exc:  # the reader sees the loss and resubscribes
                log.info("upstox feed: subscription change not sent (%s); it is sent on reconnect", exc)

    def subscribed(self) -> dict[str, Mode]:
        """What the live connection is subscribed to (empty while disconnected)."""
        with self._lock:
            return dict(self._subscribed)

    # -- one connection ------------------------------------------------------------------------------

    def _session(self) -> bool:
        """Authorise, connect, subscribe and read until the connection ends; True if a message arrived."""
        url = self.feed_url()
        ws = websocket.create_connection(
            url,
            timeout=self.idle_timeout_s,
            sslopt={"context": self.ssl_context},
            enable_multithread=True,  # subscribe() sends from another task while this one reads
            skip_utf8_validation=True,
        )
        with self._lock:
            if not self._running:
                _close(ws)
                return False
            self._ws, self._subscribed = ws, {}
            self.connections += 1
            if self.connections > 1:
                self.reconnects += 1
                metrics.UPSTOX_FEED_RECONNECTS.inc()
            self._send_changes(ws)
        self.connected, self.reason = True, None
        metrics.UPSTOX_FEED_CONNECTED.set(1)
        log.info("upstox feed connected (%d keys subscribed)", len(self._planned))
        received = quiet = False
        try:
            while self._running:
                try:
                    opcode, data = ws.recv_data(control_frame=True)
                except websocket.WebSocketTimeoutException:
                    if quiet:  # no answer to our ping either: the connection is dead
                        raise
                    quiet = True  # a quiet market: ask the server whether it is still there
                    ws.ping()
                    continue
                quiet = False
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    if self._running:  # not the answer to our own goodbye
                        log.warning("upstox feed: the server closed the connection")
                    break
                if opcode == websocket.ABNF.OPCODE_BINARY:
                    received = True
                    self._handle(data)
        finally:
            ws.shutdown()
        return received

    def _handle(self, data: bytes) -> None:
        now = now_utc()
        self.last_message_at = time.monotonic()
        metrics.UPSTOX_FEED_MESSAGES.inc()
        update = upstox_codec.decode(data, self.names(), self.known, now)
        stamp = update.sent_at or update.newest_trade
        if stamp is not None:
            metrics.UPSTOX_FEED_LAG.observe(max((now - stamp).total_seconds(), 0.0))
        self.on_update(update)

    def _send_changes(self, ws: websocket.WebSocket) -> None:
        """Send what turns the connection's subscriptions into the plan (under the lock)."""
        for method, mode, keys in changes(self._subscribed, self._planned):
            ws.send_bytes(upstox_codec.request_frame(method, keys, mode))
            for key in keys:
                if method == "unsub":
                    self._subscribed.pop(key, None)
                else:
                    self._subscribed[key] = mode
        for mode in ("ltpc", "full"):
            metrics.UPSTOX_FEED_KEYS.labels(mode).set(sum(1 for m in self._subscribed.values() if m == mode))

    # -- waiting -------------------------------------------------------------------------------------

    def _token_refused(self, exc: TokenRejected) -> None:
        """One clear line, then wait for a new token (or `token_retry_s`) without hammering Upstox."""
        refused = fingerprint(self.refresh_token())
        if self.reason != "token_expired":
            log.error(
                "upstox feed: %s; token %s expired or revoked: set a new one with POST /admin/provider/token "
                "(or UPSTOX_ACCESS_TOKEN and a restart); prices fall back to the database until then",
                exc,
                refused or "(none)",
            )
        self._set_disconnected("token_expired")
        deadline = time.monotonic() + self.token_retry_s
        while self._running and time.monotonic() < deadline:
            self._sleep(self.token_check_s)
            if self._running and fingerprint(self.refresh_token()) != refused:
                log.info("upstox feed: a new access token was set; reconnecting")
                return

    def _set_disconnected(self, reason: str) -> None:
        with self._lock:
            self._ws, self._subscribed = None, {}
        self.connected, self.reason = False, reason
        metrics.UPSTOX_FEED_CONNECTED.set(0)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff_s, self.min_backoff_s * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # jitter: a fleet of restarts does not reconnect in step

    def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when `stop()` wakes us (the wake stays set once stopping)."""
        if self._wake.wait(seconds) and self._running:
            self._wake.clear()


def _close(ws: Any) -> None:
    """Say goodbye, then cut the socket (which wakes a reader blocked on it)."""
    with contextlib.suppress(websocket.WebSocketException, OSError):  # already gone: no goodbye to say
        ws.send_close()
    ws.abort()
