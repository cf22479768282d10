"""The directly written `price_update` JSON: valid, compact, and the payload's numbers (prices as the cache's Decimals,
change and percent rounded to 2 places)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from socketio import packet

from services.market.live_price_cache import Quote
from services.realtime import payloads, websocket_frames
from services.realtime.socketio_packets import RawJson, TextPacket, event_text

AT = datetime(2026, 12, 7, 4, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("quote", "stock_id"),
    [
        (
            Quote(
                "RELIANCE",
                Decimal("2456.35"),
                Decimal("2440.10"),
                Decimal("2441"),
                Decimal("2460"),
                Decimal("2435.5"),
                1234567,
                AT,
            ),
            12,
        ),
        (
            Quote("M&M", Decimal("0.05"), Decimal("0.10"), Decimal("0.05"), Decimal("0.10"), Decimal("0.05"), 0, AT),
            None,
        ),
        (Quote("NEWLIST", Decimal("100.00"), Decimal("0"), Decimal("100"), Decimal("101"), Decimal("99"), 7, AT), 3),
        (
            Quote(
                "BIG",
                Decimal("123456789.9999"),
                Decimal("1e-4"),
                Decimal("1"),
                Decimal("1e9"),
                Decimal("1"),
                10**15,
                AT,
            ),
            4,
        ),
    ],
)
def test_price_update_json_is_compact_json_of_the_quotes_numbers(quote, stock_id):
    text = payloads.price_update_json(quote, stock_id)
    parsed = json.loads(text, parse_float=Decimal, parse_int=Decimal)  # the exact numbers written
    assert ", " not in text and ": " not in text  # compact
    ltp, prev = float(quote.ltp), float(quote.prev_close)
    assert parsed == {
        "symbol": quote.symbol,
        "stock_id": None if stock_id is None else Decimal(stock_id),
        "ltp": quote.ltp,
        "change": Decimal(repr(round(ltp - prev, 2))),
        "change_pct": Decimal(repr(round((ltp - prev) * 100 / prev, 2))) if prev else Decimal("0.0"),
        "day_open": quote.day_open,
        "day_high": quote.day_high,
        "day_low": quote.day_low,
        "prev_close": quote.prev_close,
        "volume": Decimal(quote.volume),
        "as_of": "2026-12-07T09:30:00.123+05:30",
    }
    assert payloads.price_update(quote, stock_id) == json.loads(text)  # the subscription acknowledgement's dict


@pytest.mark.parametrize("event", ["price_update", "indices_update", 'odd "name"'])
def test_an_event_prepared_once_is_the_text_and_frame_socketio_would_send(event):
    payload = payloads.price_update_json(Quote("TCS", *[Decimal("1.5")] * 5, 1, AT), 1)
    text = TextPacket(packet.EVENT, data=[event, RawJson(payload)]).encode()
    prepared = websocket_frames.event_packet(event, payload)
    assert prepared.text == event_text(event, payload) == text
    assert prepared.packet().encode() == f"4{text}"  # the Engine.IO message a long-polling client gets
    assert prepared.frame == websocket_frames.text_frame(f"4{text}".encode())
