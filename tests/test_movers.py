"""Movers, sectors and the hot-cache refresher against the seeded snapshot, with and without a live feed."""

import threading
from decimal import Decimal

import pytest

from controller.sql import fetch_all
from services.market import stock_views
from services.market.hot_cache import refresh_hot_caches
from services.market.live_price_cache import Quote
from services.platform.cache_service import clear_all
from services.realtime import feed_jobs
from tests.market_helpers import CLOSED_NOW, OPEN_NOW, freeze, put_stock_quotes, seconds_ago
from utils.timeutil import iso_ist

_RANKED = """SELECT s.symbol, s.company_name, q.ltp, q.volume, q.as_of, q.change_pct, q.change_value,
    q.intraday_change_pct, q.ltp - q.day_open AS intraday_value
FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.exchange = 'NSE'"""


def rows(db_conn, where: str, order: str, limit: int) -> list[dict]:
    return fetch_all(db_conn, f"{_RANKED} AND {where} ORDER BY {order}, s.symbol LIMIT {limit}")


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_top_gainers_vs_previous_close(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    body = get(client, "/stocks/top-gainers?limit=5")
    expected = rows(db_conn, "q.change_pct > 0", "q.change_pct DESC", 5)
    assert body["count"] == 5 and body["source"] == "database"
    assert [r["symbol"] for r in body["data"]] == [r["symbol"] for r in expected]
    top, row = body["data"][0], expected[0]
    assert top == {
        "name": row["company_name"],
        "symbol": row["symbol"],
        "price": f"{row['ltp']:,.2f}",
        "change": f"+{row['change_pct']:.2f}%",
        "priceNum": float(row["ltp"]),
        "changePercentNum": float(round(row["change_pct"], 2)),
        "changeValueNum": float(row["change_value"]),
        "volume": row["volume"],
        "asOf": iso_ist(row["as_of"]),
    }


def test_top_losers_and_intraday_ranking(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    losers = get(client, "/stocks/top-losers?limit=7")["data"]
    assert [r["symbol"] for r in losers] == [r["symbol"] for r in rows(db_conn, "q.change_pct < 0", "q.change_pct", 7)]
    assert all(r["change"].startswith("-") for r in losers)
    intraday = get(client, "/stocks/top-gainers?limit=7&intraday=true")["data"]
    expected = rows(db_conn, "q.intraday_change_pct > 0", "q.intraday_change_pct DESC", 7)
    assert [r["symbol"] for r in intraday] == [r["symbol"] for r in expected]
    assert intraday[0]["changeValueNum"] == float(expected[0]["intraday_value"])
    assert intraday[0]["changePercentNum"] == float(round(expected[0]["intraday_change_pct"], 2))


def test_most_active_is_ranked_by_real_volume(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    body = get(client, "/stocks/most-active?limit=10&exchange=nse")
    volumes = [r["volume"] for r in body["data"]]
    assert volumes == sorted(volumes, reverse=True)
    assert [r["symbol"] for r in body["data"]] == [
        r["symbol"] for r in rows(db_conn, "q.volume > 0", "q.volume DESC", 10)
    ]


def test_movers_all_combines_the_three_lists(app, client):
    freeze(app, CLOSED_NOW)
    data = get(client, "/stocks/movers-all?limit=3")["data"]
    assert data["gainers"] == get(client, "/stocks/top-gainers?limit=3")["data"]
    assert data["losers"] == get(client, "/stocks/top-losers?limit=3")["data"]
    assert data["mostActive"] == get(client, "/stocks/most-active?limit=3")["data"]
    assert data["source"] == "database"


def test_defaults(app, client):
    assert get(client, "/stocks/top-gainers")["count"] == 10


@pytest.mark.parametrize("path", ["top-gainers", "top-losers", "most-active", "movers-all"])
def test_bse_is_a_400_saying_only_nse_is_available(client, path):
    response = client.get(f"/stocks/{path}?exchange=BSE")
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"].startswith("Only NSE is available")
    assert body["error"]["details"]["fields"] == [{"field": "exchange", "message": body["message"]}]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=51", "limit=abc", "limit=2.5", "exchange=NYSE", "intraday=perhaps"]
)
@pytest.mark.parametrize("path", ["top-gainers", "top-losers", "most-active", "movers-all"])
def test_bad_movers_parameters_are_400(client, path, query):
    response = client.get(f"/stocks/{path}?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["fields"][0]["field"] == query.split("=")[0]


def live_copy(db_conn, now, bump: dict[str, str]) -> list[Quote]:
    """Live quotes equal to every NSE snapshot row, except `bump` symbols whose ltp is replaced."""
    snapshot = fetch_all(
        db_conn,
        """SELECT s.symbol, q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.volume
        FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.exchange = 'NSE'""",
    )
    quotes = []
    for r in snapshot:
        ltp = Decimal(bump.get(r["symbol"], r["ltp"]))
        quotes.append(
            Quote(
                r["symbol"],
                ltp,
                r["prev_close"],
                r["day_open"],
                max(r["day_high"], ltp),
                min(r["day_low"], ltp),
                r["volume"],
                seconds_ago(now, 2),
            )
        )
    return quotes


def test_a_live_feed_reranks_movers_while_the_market_is_open(app, client, db_conn):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, *live_copy(db_conn, now, {"TCS": "4000"}))  # TCS +29%: the new top gainer
    body = get(client, "/stocks/top-gainers?limit=3")
    assert body["source"] == "websocket_cache"
    assert body["data"][0]["symbol"] == "TCS" and body["data"][0]["priceNum"] == 4000.0
    expected = rows(db_conn, "q.change_pct > 0 AND s.symbol <> 'TCS'", "q.change_pct DESC", 2)
    assert [r["symbol"] for r in body["data"][1:]] == [r["symbol"] for r in expected]


def test_in_memory_ranking_matches_the_sql_ranking_for_the_same_numbers(app, client, db_conn, settings):
    freeze(app, CLOSED_NOW)
    from_sql = get(client, "/stocks/movers-all?limit=15&intraday=true")["data"]
    from backend.app import create_app

    live_app = create_app(settings)
    now = freeze(live_app, OPEN_NOW)
    put_stock_quotes(live_app, *live_copy(db_conn, now, {}))
    from_memory = live_app.test_client().get("/stocks/movers-all?limit=15&intraday=true").get_json()["data"]
    live_app.extensions["db"].close()
    assert from_memory["source"] == "websocket_cache"
    for name in ("gainers", "losers", "mostActive"):
        assert [r["symbol"] for r in from_memory[name]] == [r["symbol"] for r in from_sql[name]]
        assert [r["changePercentNum"] for r in from_memory[name]] == [r["changePercentNum"] for r in from_sql[name]]


def test_stale_live_quotes_do_not_touch_the_movers(app, client, db_conn):
    now = freeze(app, OPEN_NOW)
    quotes = live_copy(db_conn, seconds_ago(now, 60), {"TCS": "4000"})
    put_stock_quotes(app, *quotes)
    body = get(client, "/stocks/top-gainers?limit=3")
    assert body["source"] == "database" and "TCS" not in [r["symbol"] for r in body["data"]]


def test_sectors_match_the_snapshot(app, client, db_conn):
    freeze(app, CLOSED_NOW)
    body = get(client, "/stocks/sectors")
    expected = {
        r["sector"]: r
        for r in fetch_all(
            db_conn,
            """SELECT s.sector, COUNT(*) AS n,
        SUM(q.change_pct > 0) AS up, SUM(q.change_pct < 0) AS down, AVG(q.change_pct) AS mean
        FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id WHERE s.exchange = 'NSE' GROUP BY s.sector""",
        )
    }
    assert body["count"] == len(expected) and body["source"] == "database"
    assert sum(s["count"] for s in body["data"]) == 201
    for sector in body["data"]:
        row = expected[sector["sector"]]
        assert (sector["count"], sector["advances"], sector["declines"]) == (row["n"], row["up"], row["down"])
        assert abs(sector["changePercent"] - float(row["mean"])) <= 0.005
    changes = [s["changePercent"] for s in body["data"]]
    assert changes == sorted(changes, reverse=True)


def test_sectors_follow_the_live_feed_while_open(app, client, db_conn):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, *live_copy(db_conn, now, {"TCS": "4000"}))
    body = get(client, "/stocks/sectors")
    assert body["source"] == "websocket_cache"
    it = next(s for s in body["data"] if s["sector"] == "Information Technology")
    assert it["advances"] >= 1


@pytest.mark.parametrize(("now", "recomputed"), [(CLOSED_NOW, 1), (OPEN_NOW, 2)])
def test_the_hot_cache_recomputes_every_run_while_open_and_only_what_expired_while_closed(
    app, monkeypatch, now, recomputed
):
    freeze(app, now)
    sectors, here = [], threading.get_ident()  # this test's recomputes only (not another app's background work)
    original = stock_views.compute_sectors

    def counted(exchange: str) -> dict:
        if threading.get_ident() == here:
            sectors.append(exchange)
        return original(exchange)

    monkeypatch.setattr(stock_views, "compute_sectors", counted)
    with app.app_context():
        clear_all()
        first, second = refresh_hot_caches(), refresh_hot_caches()
    assert first["sectors"] == second["sectors"] > 5
    assert len(sectors) == recomputed  # closed: the second run finds the sectors fresh (CACHE_TTL_SECTORS_S)


def test_hot_cache_refresher_prewarms_movers_indices_and_sectors(app, client):
    freeze(app, CLOSED_NOW)
    with app.app_context():
        report = refresh_hot_caches()
    assert (report["movers"], report["indices"]) == (3, 9)
    assert report["sectors"] > 5 and report["duration_ms"] >= 0
    for url in ("/stocks/movers-all", "/stocks/top-gainers", "/indices/all", "/stocks/sectors"):
        response = client.get(url)
        assert response.status_code == 200
        assert "db;" not in response.headers["Server-Timing"], url  # served from the warmed caches


def test_the_market_views_pass_warms_the_caches_then_pushes_the_movers(app, client, db_conn, monkeypatch):
    now = freeze(app, OPEN_NOW)
    put_stock_quotes(app, *live_copy(db_conn, now, {"TCS": "4000"}))
    pushed = []
    monkeypatch.setattr(feed_jobs, "emit", lambda event, payload, to=None: pushed.append((event, payload)))
    with app.app_context():
        clear_all()
        report = feed_jobs.MarketViews()()
    assert (report["movers"], report["indices"], report["movers_update"]) == (3, 9, True)
    assert [event for event, _ in pushed] == ["movers_update"]
    assert pushed[0][1]["gainers"][0]["symbol"] == "TCS"
    response = client.get("/stocks/top-gainers")
    assert "db;" not in response.headers["Server-Timing"]  # served from the warmed cache
    assert response.get_json()["data"][0]["symbol"] == "TCS"
