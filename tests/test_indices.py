"""GET /indices/all and /indices/<name>: seeded snapshot, lookup by name, 404, the live overlay."""

import pytest

from controller.sql import fetch_all
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_index_quotes, quote, seconds_ago
from tests.market_helpers import INDEX_ROW as FIELDS
from utils.timeutil import iso_ist


def snapshot(db_conn) -> dict[str, dict]:
    rows = fetch_all(
        db_conn,
        """SELECT i.name, i.tag, q.* FROM indices i JOIN index_quotes q ON q.index_id = i.index_id
        ORDER BY i.display_order""",
    )
    return {r["name"]: r for r in rows}


def test_all_indices_grouped_by_tag(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    body = client.get("/indices/all").get_json()
    expected = snapshot(db_conn)
    assert (body["source"], body["market_status"], body["totalIndices"]) == ("database", "closed", 9)
    assert sorted(body["data"]) == ["BSE", "NSE"]
    assert [i["name"] for i in body["data"]["NSE"]] == [n for n, r in expected.items() if r["tag"] == "NSE"]
    nifty = body["data"]["NSE"][0]
    row = expected["NIFTY 50"]
    assert set(nifty) == FIELDS
    assert nifty["valueNum"] == float(row["ltp"]) and nifty["prevClose"] == f"{row['prev_close']:,.2f}"
    assert nifty["changeValueNum"] == float(round(row["change_value"], 2))
    assert nifty["changePercentNum"] == float(round(row["change_pct"], 2))
    assert nifty["direction"] == ("up" if row["change_value"] >= 0 else "down")
    assert nifty["change"] == f"{row['change_pct']:+.2f}%" and nifty["lastUpdated"] == iso_ist(row["as_of"])


@pytest.mark.parametrize("name", ["NIFTY%2050", "nifty%2050", "NIFTY_50", "nifty-50"])
def test_one_index_by_name(client, name):
    response = client.get(f"/indices/{name}")
    assert response.status_code == 200
    assert response.get_json()["data"]["name"] == "NIFTY 50"


def test_multi_word_names_and_unknown_names(client):
    assert client.get("/indices/NIFTY_FIN_SERVICE").get_json()["data"]["tag"] == "NSE"
    assert client.get("/indices/SENSEX").get_json()["data"]["tag"] == "BSE"
    missing = client.get("/indices/DOW%20JONES")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "NOT_FOUND"


def test_live_levels_replace_the_snapshot_only_while_open_and_fresh(app, client):
    now = freeze(app, OPEN_NOW)
    put_index_quotes(
        app,
        quote("NIFTY 50", "26500.25", "26062.30", seconds_ago(now, 2)),
        quote("SENSEX", "85000", "84909.43", seconds_ago(now, 30)),
    )  # stale
    body = client.get("/indices/all").get_json()
    assert (body["source"], body["market_status"]) == ("websocket_cache", "open")
    nifty = body["data"]["NSE"][0]
    assert (nifty["valueNum"], nifty["direction"], nifty["change"]) == (26500.25, "up", "+1.68%")
    assert body["data"]["BSE"][0]["valueNum"] != 85000.0
    assert client.get("/indices/NIFTY%2050").get_json()["data"]["valueNum"] == 26500.25
    freeze(app, CLOSED_NOW)
    closed = client.get("/indices/all").get_json()
    assert closed["source"] == "database" and closed["data"]["NSE"][0]["valueNum"] != 26500.25


def test_live_levels_are_laid_over_and_shaped_once_per_set_of_live_quotes(app, client):
    """While the same live quotes are fresh every request gets the same payload (laid over, shaped and encoded
    once); a newer quote is served at once."""
    from services.market import index_views

    now = freeze(app, OPEN_NOW)
    put_index_quotes(app, quote("NIFTY 50", "26500.25", "26062.30", seconds_ago(now, 2)))
    with app.app_context():
        first = index_views.indices_all()
        assert index_views.indices_all() is first and first["source"] == "websocket_cache"
    etag = client.get("/indices/all").headers["ETag"]
    assert client.get("/indices/all", headers={"If-None-Match": etag}).status_code == 304
    put_index_quotes(app, quote("NIFTY 50", "26510.00", "26062.30", seconds_ago(now, 1)))
    with app.app_context():
        moved = index_views.indices_all()
    assert moved is not first and moved["data"]["NSE"][0]["valueNum"] == 26510.0
    assert client.get("/indices/all", headers={"If-None-Match": etag}).status_code == 200
