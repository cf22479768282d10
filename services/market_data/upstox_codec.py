"""Upstox Market Data Feed V3 on the wire: subscription frames out, `FeedResponse` protobuf frames in, our Quotes.

Requests are JSON sent as *binary* frames: `{"guid", "method": "sub"|"change_mode"|"unsub",
"data": {"mode": "ltpc"|"full", "instrumentKeys": [...]}}` (`unsub` carries no mode). Answers are
`FeedResponse` messages (upstox_feed_v3.proto): `market_info` (the segments' phases, first on every
connection), `initial_feed` (the snapshot of what a `sub` asked for), `live_feed` (changes).

A `full` feed carries the day's OHLC (`marketOHLC`, interval "1d") and volume (`vtt`); an `ltpc` feed only
the last price, its time and the previous close, so an ltpc quote takes the day's open, high, low and volume
from the instrument's latest known quote of the same day (widening high/low with the new price).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from services.market.live_price_cache import Quote
from services.market_data import upstox_feed_v3_pb2 as pb
from utils.timeutil import IST

Mode = Literal["ltpc", "full"]
Kind = Literal["stocks", "indices"]
SOURCE = "upstox"
_DAY = "1d"
_STATUS_NAMES = {value: name for name, value in pb.MarketStatus.items()}


def request_frame(method: str, keys: Iterable[str], mode: Mode | None = None) -> bytes:
    """One subscription request as the binary frame's bytes (mode is omitted for `unsub`)."""
    data: dict[str, object] = {"instrumentKeys": list(keys)}
    if mode is not None:
        data["mode"] = mode
    return json.dumps({"guid": uuid.uuid4().hex, "method": method, "data": data}).encode()


@dataclass
class FeedUpdate:
    """What one FeedResponse said: quotes by kind, or the segments' phases; `sent_at` is its currentTs."""

    type: str  # "initial_feed" | "live_feed" | "market_info"
    quotes: dict[Kind, list[Quote]] = field(default_factory=dict)
    segment_status: dict[str, str] = field(default_factory=dict)
    sent_at: datetime | None = None
    newest_trade: datetime | None = None


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))  # a double's shortest repr: 1313.2 stays 1313.2


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def _same_day(a: datetime, b: datetime) -> bool:
    return a.astimezone(IST).date() == b.astimezone(IST).date()


def decode(
    payload: bytes,
    names: Mapping[str, tuple[Kind, str]],
    known: Callable[[Kind, str], Quote | None],
    now: datetime,
) -> FeedUpdate:
    """Decode one binary frame; `names` maps instrument keys to (kind, symbol or index name) and `known` gives
    an instrument's latest quote (for ltpc feeds). Keys not in `names` are ignored."""
    message = pb.FeedResponse.FromString(payload)
    kind = pb.Type.Name(message.type)
    sent_at = _ms(message.currentTs) if message.currentTs else None
    update = FeedUpdate(kind, sent_at=sent_at)
    if message.type == pb.market_info:
        update.segment_status = {seg: _STATUS_NAMES[code] for seg, code in message.marketInfo.segmentStatus.items()}
        return update
    fallback_time = sent_at or now
    for key, feed in message.feeds.items():
        named = names.get(key)
        if named is None:
            continue
        quote = _quote(named, feed, known, fallback_time)
        if quote is not None:
            update.quotes.setdefault(named[0], []).append(quote)
            if update.newest_trade is None or quote.as_of > update.newest_trade:
                update.newest_trade = quote.as_of
    return update


def _quote(
    named: tuple[Kind, str], feed: pb.Feed, known: Callable[[Kind, str], Quote | None], fallback: datetime
) -> Quote | None:
    kind, name = named
    which = feed.WhichOneof("FeedUnion")
    if which == "fullFeed":
        full = feed.fullFeed
        body = full.marketFF if full.WhichOneof("FullFeedUnion") == "marketFF" else full.indexFF
        ltpc, volume = body.ltpc, getattr(body, "vtt", 0)
        day = next((c for c in body.marketOHLC.ohlc if c.interval == _DAY), None)
    elif which == "ltpc":
        ltpc, volume, day = feed.ltpc, None, None
    elif which == "firstLevelWithGreeks":
        ltpc, volume, day = feed.firstLevelWithGreeks.ltpc, feed.firstLevelWithGreeks.vtt, None
    else:
        return None
    if not ltpc.ltp:
        return None  # never traded: nothing to show
    ltp = _dec(ltpc.ltp)
    as_of = _ms(ltpc.ltt) if ltpc.ltt else fallback
    prev_close = _dec(ltpc.cp) if ltpc.cp else ltp
    if day is not None:
        return Quote(
            name, ltp, prev_close, _dec(day.open), _dec(day.high), _dec(day.low), int(volume or 0), as_of, SOURCE
        )
    base = known(kind, name)
    if base is None or not _same_day(base.as_of, as_of):
        return Quote(name, ltp, prev_close, ltp, ltp, ltp, int(volume or 0), as_of, SOURCE)
    return Quote(
        name,
        ltp,
        prev_close,
        base.day_open,
        max(base.day_high, ltp),
        min(base.day_low, ltp),
        int(volume) if volume else base.volume,
        as_of,
        SOURCE,
    )
