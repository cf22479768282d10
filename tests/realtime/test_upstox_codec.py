"""The feed's wire format: the committed protobuf module is what protoc makes of the .proto, request frames,
and FeedResponse frames decoded into quotes (ltpc quotes take the day's range only from the same day)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from services.market.live_price_cache import Quote
from services.market_data import upstox_codec
from services.market_data import upstox_feed_v3_pb2 as pb
from tests.realtime.fake_upstox_feed import full_feed, ltpc_feed, response

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "services" / "market_data"
NAMES = {"NSE_EQ|X": ("stocks", "XYZ"), "NSE_INDEX|Nifty 50": ("indices", "NIFTY 50")}
NOW = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)


def test_the_committed_module_is_what_protoc_generates(tmp_path):
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", f"--python_out={tmp_path}"]
    subprocess.run([*command, str(PROTO_DIR / "upstox_feed_v3.proto")], check=True)
    generated = (tmp_path / "upstox_feed_v3_pb2.py").read_text()
    assert generated == (PROTO_DIR / "upstox_feed_v3_pb2.py").read_text(), "run `make proto` and commit the result"


def test_request_frames():
    frame = json.loads(upstox_codec.request_frame("sub", ["A", "B"], "full"))
    assert frame["method"] == "sub" and frame["data"] == {"instrumentKeys": ["A", "B"], "mode": "full"}
    assert "mode" not in json.loads(upstox_codec.request_frame("unsub", ["A"]))["data"]


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_full_and_index_feeds_decode_into_quotes():
    payload = response(
        pb.live_feed,
        {
            "NSE_EQ|X": full_feed(101.25, 100.0, 4200, ms(NOW), day=(99.5, 102.0, 99.0)),
            "NSE_INDEX|Nifty 50": full_feed(26000.5, 26100.0, 0, ms(NOW), index=True, day=(26100, 26120, 25990)),
            "NSE_EQ|UNKNOWN": full_feed(1.0, 1.0, 1, ms(NOW)),
        },
    )
    update = upstox_codec.decode(payload, NAMES, lambda kind, symbol: None, NOW)
    assert update.type == "live_feed" and update.newest_trade == NOW and update.sent_at is not None
    [stock] = update.quotes["stocks"]
    assert stock == Quote(
        "XYZ",
        Decimal("101.25"),
        Decimal("100.0"),
        Decimal("99.5"),
        Decimal("102.0"),
        Decimal("99.0"),
        4200,
        NOW,
        "upstox",
    )
    [index] = update.quotes["indices"]
    assert (index.symbol, index.ltp, index.day_low, index.volume) == (
        "NIFTY 50",
        Decimal("26000.5"),
        Decimal("25990.0"),
        0,
    )


def test_ltpc_feeds_take_the_range_from_a_known_quote_of_the_same_day_only():
    payload = response(pb.live_feed, {"NSE_EQ|X": ltpc_feed(98.5, 100.0, ms(NOW))})
    today = Quote("XYZ", Decimal(99), Decimal(100), Decimal("99.5"), Decimal(102), Decimal(99), 4200, NOW)
    [quote] = upstox_codec.decode(payload, NAMES, lambda kind, symbol: today, NOW).quotes["stocks"]
    assert (quote.day_open, quote.day_high, quote.day_low, quote.volume) == (
        Decimal("99.5"),
        102,
        Decimal("98.5"),
        4200,
    )
    yesterday = Quote(
        "XYZ", Decimal(99), Decimal(100), Decimal(1), Decimal(500), Decimal(1), 9, NOW - timedelta(days=1)
    )
    [quote] = upstox_codec.decode(payload, NAMES, lambda kind, symbol: yesterday, NOW).quotes["stocks"]
    assert (quote.day_open, quote.day_high, quote.day_low, quote.volume) == (Decimal("98.5"),) * 3 + (0,)


def test_market_info_and_an_instrument_that_never_traded():
    update = upstox_codec.decode(
        response(pb.market_info, segments={"NSE_EQ": "CLOSING_START", "BSE_EQ": "NORMAL_CLOSE"}), NAMES, None, NOW
    )
    assert update.type == "market_info" and update.segment_status == {
        "NSE_EQ": "CLOSING_START",
        "BSE_EQ": "NORMAL_CLOSE",
    }
    never = upstox_codec.decode(response(pb.initial_feed, {"NSE_EQ|X": ltpc_feed(0.0, 0.0, 0)}), NAMES, None, NOW)
    assert never.quotes == {}
