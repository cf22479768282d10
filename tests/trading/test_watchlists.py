"""Watchlists: several named lists, ordered items with live quotes, ownership and conflicts."""

from tests.trading.conftest import OPEN_AT


def names(trader):
    return [w["name"] for w in trader.get("/watchlists").get_json()["data"]]


def test_lists_are_created_renamed_and_deleted_and_empty_lists_are_listed(trader, market):
    assert trader.get("/watchlists").get_json() == {"status": "success", "data": [], "count": 0}
    first = trader.post("/watchlists", json={"name": "Banks"})
    assert first.status_code == 201
    created = first.get_json()["data"]
    assert (created["name"], created["items"], created["count"], created["position"]) == ("Banks", [], 0, 0)
    second = trader.post("/watchlists", json={"name": "IT"}).get_json()["data"]
    assert second["position"] == 1 and names(trader) == ["Banks", "IT"]
    assert trader.post("/watchlists", json={"name": "banks"}).status_code == 409  # names are case-insensitive
    renamed = trader.patch(f"/watchlists/{second['watchlist_id']}", json={"name": "Tech", "position": 0})
    assert renamed.status_code == 200 and renamed.get_json()["data"]["name"] == "Tech"
    assert set(names(trader)) == {"Banks", "Tech"}
    assert trader.patch(f"/watchlists/{second['watchlist_id']}", json={"name": "Banks"}).status_code == 409
    assert trader.delete(f"/watchlists/{created['watchlist_id']}").get_json()["data"]["deleted"] is True
    assert names(trader) == ["Tech"]


def test_items_are_ordered_quoted_and_unique(trader, market):
    wl = trader.post("/watchlists", json={"name": "Mine"}).get_json()["data"]["watchlist_id"]
    for symbol in ("ZZTEST", "reliance", "ZZLOT"):
        assert trader.post(f"/watchlists/{wl}/items", json={"symbol": symbol}).status_code == 201
    duplicate = trader.post(f"/watchlists/{wl}/items", json={"symbol": "ZZTEST"})
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["code"] == "CONFLICT"
    assert trader.post(f"/watchlists/{wl}/items", json={"symbol": "NOSUCH"}).status_code == 404
    market.publish("ZZTEST", "104.5")
    items = trader.get(f"/watchlists/{wl}").get_json()["data"]["items"]
    assert [i["symbol"] for i in items] == ["ZZTEST", "RELIANCE", "ZZLOT"]
    live, db = items[0], items[1]
    assert (live["ltp"], live["change"], live["change_pct"]) == (104.5, 4.5, 4.5)
    assert live["price_source"] == "websocket_cache"
    assert live["as_of"] == OPEN_AT.isoformat(timespec="milliseconds")
    assert db["price_source"] == "database" and db["ltp"] > 0 and db["company_name"] == "Reliance Industries Ltd."
    reordered = trader.put(f"/watchlists/{wl}/items", json={"symbols": ["ZZLOT", "ZZTEST", "RELIANCE"]})
    assert [i["symbol"] for i in reordered.get_json()["data"]["items"]] == ["ZZLOT", "ZZTEST", "RELIANCE"]
    for bad in (["ZZLOT", "ZZTEST"], ["ZZLOT", "ZZTEST", "RELIANCE", "INFY"], ["ZZLOT", "ZZLOT", "ZZTEST"]):
        assert trader.put(f"/watchlists/{wl}/items", json={"symbols": bad}).status_code == 422
    removed = trader.delete(f"/watchlists/{wl}/items/zztest").get_json()["data"]
    assert [i["symbol"] for i in removed["items"]] == ["ZZLOT", "RELIANCE"]
    assert trader.delete(f"/watchlists/{wl}/items/ZZTEST").status_code == 404
    assert trader.delete(f"/watchlists/{wl}/items/%20bad").status_code == 404


def test_another_users_lists_are_404(trader, make_trader, market):
    wl = trader.post("/watchlists", json={"name": "Private"}).get_json()["data"]["watchlist_id"]
    eve = make_trader("eve")
    for response in (
        eve.get(f"/watchlists/{wl}"),
        eve.patch(f"/watchlists/{wl}", json={"name": "x"}),
        eve.delete(f"/watchlists/{wl}"),
        eve.post(f"/watchlists/{wl}/items", json={"symbol": "ZZTEST"}),
        eve.put(f"/watchlists/{wl}/items", json={"symbols": []}),
        eve.delete(f"/watchlists/{wl}/items/ZZTEST"),
    ):
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "NOT_FOUND"
    assert eve.get("/watchlists").get_json()["data"] == []
    assert eve.post("/watchlists", json={"name": "Private"}).status_code == 201  # names are per user


def test_bad_bodies_and_limits(trader, app, market):
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "a\x00b"},
        {"name": 5},
        {"name": "ok", "extra": 1},
        {"name": " padded"},
        {"name": "\ud800"},
    ):
        assert trader.post("/watchlists", json=body).status_code == 400, body
    app.extensions["settings"].watchlist_max_lists = 2
    app.extensions["settings"].watchlist_max_items = 1
    wl = trader.post("/watchlists", json={"name": "a"}).get_json()["data"]["watchlist_id"]
    trader.post("/watchlists", json={"name": "b"})
    assert trader.post("/watchlists", json={"name": "c"}).status_code == 409
    trader.post(f"/watchlists/{wl}/items", json={"symbol": "ZZTEST"})
    assert trader.post(f"/watchlists/{wl}/items", json={"symbol": "ZZLOT"}).status_code == 409
    assert trader.patch(f"/watchlists/{wl}", json={}).status_code == 400


def test_the_documented_name_pattern_is_the_one_enforced(client):
    from utils.validators import free_text_pattern

    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    for model in ("WatchlistCreate", "WatchlistUpdate"):
        assert schemas[model]["properties"]["name"]["pattern"] == free_text_pattern(trim=False)
