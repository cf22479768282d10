"""What the OpenAPI document says POST and PATCH /orders accept is what the server accepts: which prices each
order type requires and refuses (`oneOf`), and optional fields that may be absent but never null."""

from __future__ import annotations

import pytest

from tests.openapi_helpers import documented_api

PRICES = {"price": 102, "trigger_price": 101}  # a BUY stop: trigger above the last price (100), limit above it


def order_type_rules() -> dict[str, dict]:
    """order type -> {"required": [...], "refused": [...]} as the document's oneOf says."""
    variants = documented_api()["components"]["schemas"]["PaperOrderRequest"]["oneOf"]
    rules = {}
    for variant in variants:
        [order_type] = variant["properties"]["order_type"]["enum"]
        refused = [option["required"][0] for option in variant.get("not", {}).get("anyOf", [])]
        rules[order_type] = {"required": variant.get("required", []), "refused": refused}
    return rules


def test_the_document_says_which_prices_each_order_type_takes():
    assert order_type_rules() == {
        "MARKET": {"required": [], "refused": ["price", "trigger_price"]},
        "LIMIT": {"required": ["price"], "refused": ["trigger_price"]},
        "SL": {"required": ["price", "trigger_price"], "refused": []},
        "SL-M": {"required": ["trigger_price"], "refused": ["price"]},
    }


@pytest.mark.parametrize("order_type", ["MARKET", "LIMIT", "SL", "SL-M"])
def test_the_server_accepts_exactly_what_the_document_says(market, trader, order_type):
    rules = order_type_rules()[order_type]
    market.publish("ZZTEST", "100")
    valid = {"order_type": order_type, **{name: PRICES[name] for name in rules["required"]}}
    for name in rules["required"]:
        missing = {key: value for key, value in valid.items() if key != name}
        assert trader.order(**missing)["error"]["details"]["fields"][0]["field"] == name
    for name in rules["refused"]:
        assert trader.order(**valid, **{name: PRICES[name]})["error"]["details"]["fields"][0]["field"] == name
    assert trader.get("/orders").get_json()["count"] == 0
    trader.order(expect=201, **valid)


@pytest.mark.parametrize("field", ["price", "trigger_price", "client_order_id"])
def test_null_is_not_a_value_of_a_new_order(market, trader, field):
    body = trader.order(expect=400, **{"order_type": "SL", "price": 102, "trigger_price": 101, field: None})
    assert body["error"]["details"]["fields"][0]["field"] == field


@pytest.mark.parametrize("field", ["quantity", "price", "trigger_price"])
def test_patch_with_null_is_400_and_changes_nothing(market, trader, field):
    market.publish("ZZTEST", "100")
    order = trader.order(expect=201, order_type="SL", price=102, trigger_price=101)
    response = trader.patch(f"/orders/{order['order_id']}", json={field: None})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == field
    assert trader.get(f"/orders/{order['order_id']}").get_json()["data"] == order
