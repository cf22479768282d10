"""The `upstox` market-data provider: Upstox REST v2/v3 over one rate-limited, retrying HTTP session.

- quotes: GET /v2/market-quote/quotes?instrument_key=k1,k2,... (at most 500 keys a call); the answer
  is keyed "NSE_EQ:RELIANCE" and each entry echoes the requested key as `instrument_token`.
- candles: GET /v3/historical-candle/{key}/{unit}/{n}/{to}/{from} (and .../intraday/{key}/{unit}/{n}
  for today); `data.candles` rows are [timestamp, open, high, low, close, volume, oi], newest first.
- instruments: the gzipped JSON instrument master (tick_size there is in paise).
- market status: GET /v2/market/status/NSE -> data.status such as NORMAL_OPEN, PRE_OPEN_START.
- feed: GET /v3/feed/market-data-feed/authorize -> data.authorized_redirect_uri, a single-use wss:// URL
  (services/market_data/upstox_feed.py streams from it).

The access token is read per request from `token()` (services/market_data/provider_token.py: the one an
administrator stored, else UPSTOX_ACCESS_TOKEN), so a new token takes effect without a restart.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote as urlquote

from backend.settings import Settings
from services.market.exchange_session import phase_of
from services.market.live_price_cache import Quote
from services.market_data.base import Candle, Instrument, ProviderError, TokenRejected
from services.market_data.universe import Universe
from services.platform.http_client import HttpClient, RateLimiter, UpstreamError
from utils.market_hours import MarketCalendar, MarketStatus, market_status
from utils.timeutil import IST, now_utc

MAX_KEYS_PER_CALL = 500
# Upstox publishes 50/s, 500/min and 2,000 per 30 min per user for standard APIs; the client stays below
# each (UPSTOX_REST_LIMITS, by default 40/s, 450/min, 1,900 per 30 min).
PUBLISHED_LIMITS = ((1, 50), (60, 500), (1800, 2000))
_UNITS = {
    "1minute": ("minutes", 1),
    "5minute": ("minutes", 5),
    "15minute": ("minutes", 15),
    "30minute": ("minutes", 30),
    "day": ("days", 1),
    "week": ("weeks", 1),
    "month": ("months", 1),
}
_AUTHORIZE_PATH = "/v3/feed/market-data-feed/authorize"
_REFUSED = (401, 403)


def upstox_client(settings: Settings) -> HttpClient:
    """An HTTP client for Upstox: the settings' timeouts and retries, under UPSTOX_REST_LIMITS."""
    return HttpClient(
        "upstox",
        timeout_s=settings.http_timeout_s,
        max_retries=settings.http_max_retries,
        limiter=RateLimiter(settings.upstox_rest_limits),
    )


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


class Upstox:
    """Quotes, candles, instruments and status from Upstox (token from UPSTOX_ACCESS_TOKEN)."""

    name = "upstox"

    def __init__(
        self,
        loader: Callable[[], Universe],
        token: Callable[[], str],
        base_url: str = "https://api.upstox.com",
        instruments_url: str = "",
        calendar: MarketCalendar | None = None,
        client: HttpClient | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._loader = loader
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.instruments_url = instruments_url
        self.calendar = calendar or MarketCalendar()
        self.clock = clock
        self.client = client or HttpClient("upstox", limiter=RateLimiter(PUBLISHED_LIMITS))
        self.client.session.headers["Accept"] = "application/json"
        self._stock_keys: dict[str, str] | None = None
        self._index_keys: dict[str, str] = {}

    # -- quotes ------------------------------------------------------------------------------------

    def quotes(self, symbols: list[str]) -> list[Quote]:
        """Full market quotes of `symbols`, fetched in batches of at most 500 instrument keys."""
        keys = self.instrument_keys()[0]
        return self.quotes_by_key({keys[s]: s for s in symbols if s in keys})

    def index_quotes(self, names: list[str]) -> list[Quote]:
        """Full market quotes of the named indices."""
        keys = self.instrument_keys()[1]
        return self.quotes_by_key({keys[n]: n for n in names if n in keys})

    def instrument_keys(self) -> tuple[dict[str, str], dict[str, str]]:
        """symbol -> instrument key of the stocks, and index name -> key of the indices (read once)."""
        if self._stock_keys is None:
            universe = self._loader()
            self._index_keys = {i.name: i.instrument_key for i in universe.indices if i.instrument_key}
            self._stock_keys = {s.symbol: s.instrument_key for s in universe.stocks if s.instrument_key}
        return self._stock_keys, self._index_keys

    def quotes_by_key(self, wanted: dict[str, str]) -> list[Quote]:
        """Quotes of instrument keys, each named as `wanted` maps it (one call per 500 keys)."""
        keys = list(wanted)
        result: list[Quote] = []
        for first in range(0, len(keys), MAX_KEYS_PER_CALL):
            batch = keys[first : first + MAX_KEYS_PER_CALL]
            body = self._get(f"{self.base_url}/v2/market-quote/quotes", {"instrument_key": ",".join(batch)})
            for entry in (body.get("data") or {}).values():
                name = wanted.get(entry.get("instrument_token", ""))
                if name is not None and entry.get("last_price") is not None:
                    result.append(parse_quote(name, entry, self.clock()))
        return result

    # -- candles, instruments, status --------------------------------------------------------------

    def candles(self, symbol: str, interval: str, start: datetime, end: datetime) -> list[Candle]:
        """Historical (and, for today, intraday) candles from the v3 history API, oldest first."""
        if interval not in _UNITS:
            raise ProviderError(f"unsupported interval {interval!r}")
        keys = {**self.instrument_keys()[0], **self.instrument_keys()[1]}
        if symbol not in keys:
            return []
        unit, n = _UNITS[interval]
        key = urlquote(keys[symbol], safe="")
        first, last = start.astimezone(IST).date(), end.astimezone(IST).date()
        today = self.clock().astimezone(IST).date()
        rows = []
        if first < today:
            to = min(last, today).isoformat()
            rows += self._candle_rows(f"/v3/historical-candle/{key}/{unit}/{n}/{to}/{first.isoformat()}")
        if last >= today and unit in ("minutes", "days"):
            rows += self._candle_rows(f"/v3/historical-candle/intraday/{key}/{unit}/{n}")
        bars = {bar.ts: bar for bar in map(parse_candle, rows) if start <= bar.ts < end}
        return [bars[ts] for ts in sorted(bars)]

    def _candle_rows(self, path: str) -> list[list[Any]]:
        return (self._get(self.base_url + path).get("data") or {}).get("candles") or []

    def instruments(self) -> list[Instrument]:
        """NSE equities and indices from the gzipped instrument master."""
        try:
            raw = json.loads(gzip.decompress(self.client.get_bytes(self.instruments_url)))
        except (OSError, ValueError) as exc:
            raise ProviderError(f"upstox instrument master unreadable: {exc}") from exc
        return [
            parse_instrument(item)
            for item in raw
            if item.get("segment") in ("NSE_EQ", "NSE_INDEX", "BSE_INDEX")
            and item.get("instrument_type") in ("EQ", "INDEX")
        ]

    def market_status(self) -> MarketStatus:
        """The calendar's session boundaries with the phase Upstox reports for NSE."""
        status = market_status(self.clock(), self.calendar)
        phase = phase_of(self.exchange_status())
        return replace(status, phase=phase, is_market_open=phase == "open")

    def exchange_status(self) -> str:
        """NSE's own status now as Upstox reports it (NORMAL_OPEN, NORMAL_CLOSE, PRE_OPEN_START, ...)."""
        return str((self._get(f"{self.base_url}/v2/market/status/NSE").get("data") or {}).get("status", ""))

    def feed_url(self, token: str | None = None) -> str:
        """A single-use wss:// URL of the market data feed V3 (TokenRejected when Upstox refuses the token)."""
        body = self._get(self.base_url + _AUTHORIZE_PATH, token=token)
        url = (body.get("data") or {}).get("authorized_redirect_uri")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise ProviderError("upstox: the feed authorisation answered without a WebSocket URL")
        return url

    def _get(self, url: str, params: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        token = token or self.token()
        if not token:
            raise TokenRejected("no Upstox access token: set UPSTOX_ACCESS_TOKEN or POST /admin/provider/token")
        try:
            body = self.client.get_json(url, params, headers={"Authorization": f"Bearer {token}"})
        except UpstreamError as exc:
            if exc.status in _REFUSED:
                raise TokenRejected(f"upstox refused the access token (HTTP {exc.status})") from exc
            raise ProviderError(str(exc)) from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            raise ProviderError(f"upstox: unexpected answer from {url.split('?')[0]}")
        return body


def parse_quote(name: str, entry: dict[str, Any], now: datetime) -> Quote:
    """A Quote from one full-market-quote entry; prev close = last price - net change."""
    ltp = _dec(entry["last_price"])
    ohlc = entry.get("ohlc") or {}
    prev_close = ltp - _dec(entry["net_change"]) if entry.get("net_change") is not None else _dec(ohlc.get("close"))
    return Quote(
        name,
        ltp,
        prev_close,
        _dec(ohlc.get("open", ltp)),
        _dec(ohlc.get("high", ltp)),
        _dec(ohlc.get("low", ltp)),
        int(entry.get("volume") or 0),
        _quote_time(entry, now),
        "upstox",
    )


def _quote_time(entry: dict[str, Any], now: datetime) -> datetime:
    traded = str(entry.get("last_trade_time") or "")
    if traded.isdigit():
        return datetime.fromtimestamp(int(traded) / 1000, UTC)
    try:
        return datetime.fromisoformat(entry["timestamp"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return now


def parse_candle(row: list[Any]) -> Candle:
    """A Candle from a v3 row [timestamp, open, high, low, close, volume, oi]."""
    return Candle(
        datetime.fromisoformat(row[0]).astimezone(UTC),
        _dec(row[1]),
        _dec(row[2]),
        _dec(row[3]),
        _dec(row[4]),
        int(row[5] or 0),
    )


def parse_instrument(item: dict[str, Any]) -> Instrument:
    """An Instrument from one instrument-master object (tick_size there is in paise)."""
    tick = (_dec(item.get("tick_size")) / 100) if item.get("tick_size") else Decimal("0.05")
    return Instrument(
        item["trading_symbol"],
        item.get("name") or item["trading_symbol"],
        item["exchange"],
        item["segment"],
        item["instrument_key"],
        item.get("isin"),
        tick,
        int(item.get("lot_size") or 1),
    )
