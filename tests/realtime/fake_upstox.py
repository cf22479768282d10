"""A loopback stand-in for the Upstox REST API, answering with the documented response shapes, and for the
market data feed V3 (tests/realtime/fake_upstox_feed.py).

Scripted answers (status, body, headers) can be queued per path prefix to produce 429/5xx sequences;
every request is recorded (path, query, Authorization header). With `valid_tokens` set, a request whose
bearer token is not among them is refused with 401, as Upstox refuses an expired token.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from backend.local_mariadb import free_port
from tests.realtime.fake_upstox_feed import AUTHORIZE, SOCKET, FakeFeed

# Instrument keys of the reference universe and prices the loopback fake quotes and streams for them.
RELIANCE = "NSE_EQ|INE002A01018"
TCS = "NSE_EQ|INE467B01029"
INFY = "NSE_EQ|INE009A01021"
NIFTY = "NSE_INDEX|Nifty 50"
SAMPLE_PRICES = {  # key -> symbol, last price, change, volume
    RELIANCE: ("RELIANCE", 1313.2, 3.2, 5_000_000),
    TCS: ("TCS", 3100.5, -20.5, 1_200_000),
    INFY: ("INFY", 1500.0, 5.0, 900_000),
    NIFTY: ("Nifty 50", 26101.5, -12.25, 0),
}


def quote_entry(
    symbol: str, key: str, last_price: float, net_change: float, volume: int, segment: str = "NSE_EQ"
) -> dict[str, Any]:
    """One entry of GET /v2/market-quote/quotes (full market quote)."""
    return {
        "ohlc": {
            "open": last_price - 5,
            "high": last_price + 7.5,
            "low": last_price - 9.25,
            "close": last_price - net_change,
        },
        "depth": {
            "buy": [{"quantity": 10, "price": last_price - 0.05, "orders": 1}],
            "sell": [{"quantity": 12, "price": last_price + 0.05, "orders": 2}],
        },
        "timestamp": "2026-11-20T11:00:01.250+05:30",
        "instrument_token": key,
        "symbol": symbol,
        "last_price": last_price,
        "volume": volume,
        "average_price": last_price - 1,
        "oi": 0.0,
        "net_change": net_change,
        "total_buy_quantity": 1000.0,
        "total_sell_quantity": 1200.0,
        "lower_circuit_limit": round(last_price * 0.9, 2),
        "upper_circuit_limit": round(last_price * 1.1, 2),
        "last_trade_time": "1795152601250",  # 2026-11-20T05:30:01.250Z
        "oi_day_high": 0.0,
        "oi_day_low": 0.0,
    }


@dataclass
class FakeUpstox:
    """The server's state: prices by instrument key, scripted answers, recorded requests."""

    prices: dict[str, tuple[str, float, float, int]] = field(default_factory=dict)  # key -> symbol, ltp, chg, vol
    candles: dict[str, list[list[Any]]] = field(default_factory=dict)  # path -> rows
    instruments: list[dict[str, Any]] = field(default_factory=list)
    status: str = "NORMAL_OPEN"
    scripted: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    requests: list[dict[str, Any]] = field(default_factory=list)
    valid_tokens: set[str] | None = None
    feed: FakeFeed = field(init=False)

    def __post_init__(self) -> None:
        self.feed = FakeFeed(self.prices)

    def script(self, prefix: str, *answers: tuple[int, Any, dict[str, str]]) -> None:
        """Answer the next requests under `prefix` with these (status, body, headers) first."""
        self.scripted[prefix].extend(answers)

    def app(self, environ, start_response):
        request = Request(environ)
        if request.path == SOCKET:
            if not self.feed.accept(environ):
                return _json({"status": "error", "errors": [{"errorCode": "UDAPI100500"}]}, 403)(
                    environ, start_response
                )
            raise ConnectionError  # the WebSocket is over; werkzeug's dev server drops the connection quietly
        self.requests.append(
            {
                "path": request.path,
                "args": dict(request.args),
                "auth": request.headers.get("Authorization"),
                "at": time.monotonic(),
            }
        )
        for prefix, answers in self.scripted.items():
            if request.path.startswith(prefix) and answers:
                status, body, headers = answers.popleft()
                return _json(body, status, headers)(environ, start_response)
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.valid_tokens is not None and request.path.startswith("/v") and token not in self.valid_tokens:
            refusal = {"status": "error", "errors": [{"errorCode": "UDAPI100050", "message": "Invalid token"}]}
            return _json(refusal, 401)(environ, start_response)
        return self._route(request)(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path == AUTHORIZE:
            return _json(self.feed.authorize(request.host_url.rstrip("/")))
        if path == "/v2/market-quote/quotes":
            keys = request.args.get("instrument_key", "").split(",")
            data = {}
            for key in keys:
                if key in self.prices:
                    symbol, ltp, change, volume = self.prices[key]
                    segment = key.split("|")[0]
                    data[f"{segment}:{symbol}"] = quote_entry(symbol, key, ltp, change, volume)
            return _json({"status": "success", "data": data})
        if path.startswith("/v3/historical-candle/"):
            return _json({"status": "success", "data": {"candles": self.candles.get(path, [])}})
        if path == "/v2/market/status/NSE":
            return _json(
                {"status": "success", "data": {"exchange": "NSE", "status": self.status, "last_updated": 1795152601000}}
            )
        if path == "/instruments/NSE.json.gz":
            return Response(gzip.compress(json.dumps(self.instruments).encode()), mimetype="application/gzip")
        return _json({"status": "error", "errors": [{"errorCode": "UDAPI100060", "message": "not found"}]}, 404)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")


class _Handler(WSGIRequestHandler):
    def connection_dropped(self, error: BaseException, environ: dict | None = None) -> None:
        self.close_connection = True  # a finished WebSocket: nothing more on this connection is HTTP


class FakeUpstoxServer:
    """Runs a FakeUpstox on 127.0.0.1 in a thread (tests may use threads); over TLS with `ssl_context`."""

    def __init__(self, ssl_context: Any = None) -> None:
        self.state = FakeUpstox()
        self.port = free_port()
        self.scheme = "https" if ssl_context else "http"
        self.server = make_server(
            "127.0.0.1", self.port, self.state.app, threaded=True, request_handler=_Handler, ssl_context=ssl_context
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def feed(self) -> FakeFeed:
        """The feed's state."""
        return self.state.feed

    def __enter__(self) -> FakeUpstoxServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
