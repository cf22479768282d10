"""The exchange rules, pure: validation, reservations, triggers and fill prices."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from controller.market.instruments import Instrument
from controller.trading.models import Order
from controller.trading.order_rules import (
    OrderTicket,
    TradingRules,
    execution_price,
    is_triggered,
    may_act,
    reference,
    reservation,
    validate,
)
from utils.trading_errors import MarketDataUnavailable, OrderRejected

NOW = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)
RULES = TradingRules(D("20"), D("1000000"), D("3"), D("100000"))
STOCK = Instrument(1, "ZZTEST", "Test", D("0.05"), 1, D("100.00"), D("100.00"), NOW)
LOT = replace(STOCK, lot_size=25)
REF = reference(STOCK, None, RULES.band_percent)


def ticket(**kw):
    fields = {
        "symbol": "ZZTEST",
        "side": "BUY",
        "order_type": "LIMIT",
        "validity": "DAY",
        "quantity": 10,
        "price": D("99.00"),
    }
    fields.update(kw)
    return OrderTicket(**fields)


def order(**kw):
    fields = dict(
        order_id=1,
        user_id=1,
        client_order_id=None,
        stock_id=1,
        symbol="ZZTEST",
        side="BUY",
        order_type="LIMIT",
        validity="DAY",
        quantity=10,
        filled_quantity=0,
        price=D("99"),
        trigger_price=None,
        average_price=None,
        reserved_amount=D("990"),
        status="OPEN",
        reject_reason=None,
        is_amo=False,
        created_at=NOW,
        updated_at=NOW,
    )
    fields.update(kw)
    return Order(**fields)


def rejected(t, instrument=STOCK, ref=REF, rules=RULES) -> dict:
    with pytest.raises(OrderRejected) as info:
        validate(t, instrument, ref, rules)
    return info.value.details


def test_band_is_previous_close_plus_minus_percent_rounded_inward_to_ticks():
    assert (REF.lower, REF.upper) == (D("80.00"), D("120.00"))
    odd = reference(replace(STOCK, prev_close=D("100.03")), None, D("20"))
    assert (odd.lower, odd.upper) == (D("80.05"), D("120.00"))  # 80.024 -> 80.05, 120.036 -> 120.00


def test_a_fresh_live_quote_wins_over_the_database_and_no_price_at_all_is_unavailable():
    class Live:
        ltp, prev_close = D("105"), D("101")

    assert reference(STOCK, Live(), D("20")).ltp == D("105")
    assert reference(STOCK, Live(), D("20")).upper == D("121.20")
    with pytest.raises(MarketDataUnavailable):
        reference(replace(STOCK, ltp=None, prev_close=None), None, D("20"))


@pytest.mark.parametrize(
    "fields,rule,field",
    [
        ({"price": D("99.03")}, "tick_size", "price"),
        ({"price": D("79.95")}, "price_band", "price"),
        ({"price": D("120.05")}, "price_band", "price"),
        ({"order_type": "MARKET", "price": D("99")}, "price_presence", "price"),
        ({"order_type": "LIMIT", "price": None}, "price_presence", "price"),
        ({"order_type": "SL", "trigger_price": None}, "trigger_presence", "trigger_price"),
        ({"order_type": "LIMIT", "trigger_price": D("99")}, "trigger_presence", "trigger_price"),
        ({"order_type": "SL-M", "price": None, "trigger_price": D("99.00")}, "trigger_side", "trigger_price"),
        ({"order_type": "SL", "price": D("101"), "trigger_price": D("102")}, "trigger_side", "price"),
        (
            {"side": "SELL", "order_type": "SL", "price": D("99"), "trigger_price": D("101")},
            "trigger_side",
            "trigger_price",
        ),
        ({"side": "SELL", "order_type": "SL", "price": D("99"), "trigger_price": D("98")}, "trigger_side", "price"),
        ({"order_type": "SL-M", "price": None, "trigger_price": D("101.01")}, "tick_size", "trigger_price"),
        ({"quantity": 10_001, "price": D("100")}, "max_order_value", "quantity"),
    ],
)
def test_each_exchange_rule_rejects_with_its_name(fields, rule, field):
    details = rejected(ticket(**fields))
    assert (details["rule"], details["fields"][0]["field"]) == (rule, field)


def test_quantity_must_be_a_multiple_of_the_lot_size():
    assert rejected(ticket(quantity=30), instrument=LOT)["rule"] == "lot_size"
    validate(ticket(quantity=50), LOT, REF, RULES)


def test_valid_tickets_pass():
    validate(ticket(), STOCK, REF, RULES)
    validate(ticket(order_type="SL", price=D("102"), trigger_price=D("101")), STOCK, REF, RULES)
    validate(ticket(side="SELL", order_type="SL-M", price=None, trigger_price=D("95")), STOCK, REF, RULES)
    validate(ticket(order_type="MARKET", price=None, quantity=10_000), STOCK, REF, RULES)  # exactly the max


def test_reservations():
    assert reservation(ticket(price=D("99.05"), quantity=3), REF, RULES) == D("297.15")
    # market buys: last price plus the buffer, but never beyond the upper circuit
    assert reservation(ticket(order_type="MARKET", price=None), REF, RULES) == D("1030.00")
    near_top = replace(REF, ltp=D("119"))
    assert reservation(ticket(order_type="MARKET", price=None), near_top, RULES) == D("1200.00")
    above_band = replace(REF, ltp=D("125"))  # a live price beyond the band still reserves at least itself
    assert reservation(ticket(order_type="MARKET", price=None), above_band, RULES) == D("1250.00")
    assert reservation(ticket(order_type="SL-M", price=None, trigger_price=D("110")), REF, RULES) == D("1133.00")
    assert reservation(ticket(side="SELL"), REF, RULES) == 0


def test_fill_prices_are_the_limit_or_better():
    buy, sell = order(price=D("99")), order(side="SELL", price=D("101"))
    assert execution_price(buy, D("99.5")) is None
    assert execution_price(buy, D("98.5")) == D("98.5")
    assert execution_price(buy, D("99")) == D("99")
    assert execution_price(sell, D("100.5")) is None
    assert execution_price(sell, D("102")) == D("102")
    assert execution_price(order(order_type="MARKET", price=None), D("97.3")) == D("97.3")


def test_triggers_and_what_deserves_a_transaction():
    stop_buy = order(order_type="SL", status="TRIGGER_PENDING", trigger_price=D("105"), price=D("106"))
    stop_sell = order(side="SELL", order_type="SL-M", status="TRIGGER_PENDING", trigger_price=D("95"), price=None)
    assert not is_triggered(stop_buy, D("104.95")) and is_triggered(stop_buy, D("105"))
    assert not is_triggered(stop_sell, D("95.05")) and is_triggered(stop_sell, D("94"))
    assert not may_act(stop_buy, D("104")) and may_act(stop_buy, D("105.5"))
    assert not may_act(order(price=D("99")), D("100")) and may_act(order(validity="IOC"), D("100"))
