"""Socket.IO handlers: optional JWT on connect, subscribe/unsubscribe with acks, and the connection gauge.

Rooms: `symbol:<SYMBOL>` (price_update), `user:<id>` (private order/trade/account events), `admins` (signed-in
administrators: crawler_run_progress). A signed-in socket is remembered with its user and token id until it ends
(services/realtime/sessions.py).
A client subscribes with `{symbols: [...]}` and is acked `{subscribed, unknown, prices_batch}` (plus
`error` when the request is invalid or would exceed WS_MAX_SUBSCRIPTIONS); a new subscription gets the
symbol's latest cached quote at once, so a client never waits a full tick for its first price.
With `mode: "batch"` the symbols arrive as one `price_updates` list per fan-out pass instead.

Every connection starts in the `prices_batch` room (the market-wide batch that existing dashboard clients
listen to). A subscription to symbols leaves it, unless the request says `prices_batch: true`;
`prices_batch: false` leaves it, `true` (re)joins it, with or without symbols.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room, leave_room, rooms

from backend.extensions import app_extensions, socketio
from services.accounts.auth import is_admin, verify_access_token
from services.market import market_clock
from services.realtime import payloads
from services.realtime.batch_subscriptions import batch_subscriptions
from services.realtime.fanout import PRICES_BATCH_ROOM, emit, symbol_room
from services.realtime.sessions import SocketSession, socket_sessions
from utils import metrics
from utils.errors import AppError

log = logging.getLogger(__name__)
MAX_SYMBOL_LENGTH = 32
_ROOM_PREFIX = "symbol:"
_MODES = ("symbol", "batch")
ADMIN_ROOM = "admins"
SOCKETIO_PATH = "socket.io"  # the URL path Socket.IO and Engine.IO serve (their default)


def session_from_token(token: str) -> SocketSession:
    """The user and token id of a valid access token of an active user (the HTTP check); refuses the connection
    otherwise."""
    try:
        verified = verify_access_token(token)
    except AppError as exc:
        raise ConnectionRefusedError(exc.message) from exc
    return SocketSession(verified.user_id, verified.jti)


def _error(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"subscribed": [], "unknown": [], "error": {"code": code, "message": message, "details": details}}


def _requested_symbols(data: Any) -> list[str] | dict[str, Any]:
    """The de-duplicated, upper-cased symbols of a (un)subscribe payload, or an error ack."""
    limit = app_extensions()["settings"].ws_max_subscriptions
    symbols = data.get("symbols") if isinstance(data, dict) else None
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        return _error("VALIDATION_ERROR", "expected {symbols: [string, ...]}")
    cleaned = list(dict.fromkeys(s.strip().upper() for s in symbols))
    if len(cleaned) > limit:
        return _error("VALIDATION_ERROR", f"at most {limit} symbols per request", limit=limit)
    if any(not s or len(s) > MAX_SYMBOL_LENGTH for s in cleaned):
        return _error("VALIDATION_ERROR", f"symbols must be 1-{MAX_SYMBOL_LENGTH} characters")
    return cleaned


def _subscribed_symbols() -> set[str]:
    in_rooms = {room.removeprefix(_ROOM_PREFIX) for room in rooms() if room.startswith(_ROOM_PREFIX)}
    return in_rooms | batch_subscriptions().symbols(request.sid)


def user_room(user_id: int) -> str:
    """The Socket.IO room of one user's private events."""
    return f"user:{user_id}"


def process_subscriptions() -> set[str]:
    """Every symbol some Socket.IO client of this process subscribed to (rooms and batch mode alike)."""
    rooms_now = socketio.server.manager.rooms.get("/", {})
    in_rooms = {
        room.removeprefix(_ROOM_PREFIX)
        for room, members in list(rooms_now.items())
        if members and isinstance(room, str) and room.startswith(_ROOM_PREFIX)
    }
    return in_rooms | batch_subscriptions().all_symbols()


def on_connect(auth: Any = None) -> bool:
    """Accept the connection; a token (auth.token) must be a valid access token and joins `user:<id>` (and
    `admins` when the user's role, read from the database, is admin)."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        session = session_from_token(str(token))
        join_room(user_room(session.user_id))
        socket_sessions().add(request.sid, session)
        if is_admin(session.user_id):
            join_room(ADMIN_ROOM)
    join_room(PRICES_BATCH_ROOM)
    metrics.SOCKETIO_CLIENTS.inc()
    emit("market_status", market_clock.status_json(market_clock.current_status()), to=request.sid)
    return True


def on_disconnect(reason: Any = None) -> None:
    """Forget the connection's batch subscriptions and session; keep the connected-clients gauge right."""
    batch_subscriptions().drop(request.sid)
    socket_sessions().discard(request.sid)
    metrics.SOCKETIO_CLIENTS.dec()


def on_subscribe(data: Any = None) -> dict[str, Any]:
    """Join the rooms of known symbols; ack {subscribed, unknown} (or an error within the cap)."""
    requested = _requested_symbols(data)
    if isinstance(requested, dict):
        return requested
    mode = data.get("mode", "symbol")
    if mode not in _MODES:
        return _error("VALIDATION_ERROR", "mode must be 'symbol' or 'batch'")
    wants_batch = data.get("prices_batch")
    if wants_batch not in (None, True, False):
        return _error("VALIDATION_ERROR", "prices_batch must be true or false")
    known = payloads.directory().stock_ids
    accepted = [s for s in requested if s in known]
    unknown = [s for s in requested if s not in known]
    current = _subscribed_symbols()
    new = [s for s in accepted if s not in current]
    limit = app_extensions()["settings"].ws_max_subscriptions
    if len(current) + len(new) > limit:
        return _error(
            "SUBSCRIPTION_LIMIT", f"at most {limit} symbols per connection", limit=limit, current=len(current)
        )
    cache = app_extensions()["live_prices"]["stocks"]
    cached = [payloads.price_update(q, known[s]) for s in new if (q := cache.get(s)) is not None]
    if mode == "batch":
        batch_subscriptions().add(request.sid, new)
        if cached:
            emit("price_updates", cached, to=request.sid)
    else:
        for symbol in new:
            join_room(symbol_room(symbol))
        for payload in cached:
            emit("price_update", payload, to=request.sid)
    if wants_batch:
        join_room(PRICES_BATCH_ROOM)
    elif wants_batch is False or accepted:
        leave_room(PRICES_BATCH_ROOM)
    return {"subscribed": accepted, "unknown": unknown, "prices_batch": PRICES_BATCH_ROOM in rooms()}


def on_unsubscribe(data: Any = None) -> dict[str, Any]:
    """Leave the rooms of the given symbols; ack {subscribed: what was left, unknown: not subscribed}."""
    requested = _requested_symbols(data)
    if isinstance(requested, dict):
        return requested
    current = _subscribed_symbols()
    for symbol in requested:
        if symbol in current:
            leave_room(symbol_room(symbol))
    batch_subscriptions().remove(request.sid, requested)
    return {"subscribed": sorted(current - set(requested)), "unknown": [s for s in requested if s not in current]}


_HANDLERS: dict[str, Callable[..., Any]] = {
    "connect": on_connect,
    "disconnect": on_disconnect,
    "subscribe": on_subscribe,
    "unsubscribe": on_unsubscribe,
}


def register_handlers(sio: SocketIO) -> None:
    """Register the handlers on the SocketIO object (once; init_app carries them to every app)."""
    if getattr(sio, "_market_handlers_registered", False):
        return
    for event, handler in _HANDLERS.items():
        sio.on_event(event, handler)
    sio._market_handlers_registered = True


def disconnect_on_undecodable_packets(sio: SocketIO) -> None:
    """A client whose packet does not decode (not Socket.IO, bad JSON, JSON nested deeper than the limit) is
    disconnected with one log line; python-socketio would log a traceback per packet and keep the connection.

    Written against python-socketio 5.18.1 / python-engineio 4.15.1, where the Socket.IO server decodes each
    client packet in the handler it registers for Engine.IO's "message" event (`eio.handlers`), and a packet
    that does not decode raises ValueError there; tests/test_extension_hooks.py fails when that changes.
    """
    eio = sio.server.eio
    handle = eio.handlers["message"]

    def on_message(eio_sid: str, data: Any) -> Any:
        try:
            return handle(eio_sid, data)
        except ValueError as exc:  # packet decoding raises ValueError (JsonTooDeep is one); handlers run apart
            metrics.SOCKETIO_BAD_PACKETS.inc()
            log.info("Socket.IO client disconnected: undecodable packet (%s)", str(exc)[:100])
            eio.disconnect(eio_sid)
            return None

    eio.on("message", on_message)


def serve_socketio_path_only(app: Flask, http_app: Callable[[dict, Callable], Any]) -> None:
    """Send only the Socket.IO path through Flask-SocketIO's middleware (now `app.wsgi_app`), every other request
    straight to `http_app` (Flask's `wsgi_app` as it was before `socketio.init_app`), and refuse per-message
    deflate on the way in.

    Flask-SocketIO's and Engine.IO's middlewares copy every request's environ and check its path before passing an
    HTTP request on: ~2 µs of a cheap request in process (docs/BENCHMARKS.md, framework overhead). Per-message
    deflate doubles the CPU and memory of small frames (docs/BENCHMARKS.md, fan-out); neither engine.io's eventlet
    driver nor simple-websocket has a switch for it, both negotiate from the Sec-WebSocket-Extensions request
    header, so the header is dropped.
    """
    socketio_app = app.wsgi_app
    prefix = f"/{SOCKETIO_PATH}/"

    def by_path(environ: dict, start_response: Callable) -> Any:
        if environ.get("PATH_INFO", "").startswith(prefix):
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
            return socketio_app(environ, start_response)
        return http_app(environ, start_response)

    app.wsgi_app = by_path  # type: ignore[method-assign]
