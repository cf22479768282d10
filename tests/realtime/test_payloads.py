"""The directly written `price_update` JSON: valid, compact, and the text json.dumps makes of what it parses to."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.market.live_price_cache import Quote
from services.realtime import payloads

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
def test_price_update_json_is_the_dicts_compact_json(quote, stock_id):
    expected = json.dumps(payloads.price_update(quote, stock_id), separators=(",", ":"))
    assert payloads.price_update_json(quote, stock_id) == expected
    assert json.loads(expected)["symbol"] == quote.symbol
