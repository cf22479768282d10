"""Market sentiment: breadth from the seeded snapshot and from a live cache filled here (frozen clocks
inside and outside market hours), the news score, the combined score, the endpoint and its cache."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from controller.sql import execute, fetch_all
from services.market.live_price_cache import Quote, stock_prices
from services.news.market_sentiment import compute_market_sentiment, overall_for
from services.news.news_cache import clear_caches
from tests.conftest import SEED_NOW
from utils.timeutil import IST, now_utc, to_db

OPEN_NOW = SEED_NOW  # Friday 11:00 IST, inside the session
CLOSED_NOW = datetime(2026, 11, 21, 11, 0, tzinfo=IST)  # Saturday
FIELDS = {
    "overall",
    "score",
    "bullishPercent",
    "bearishPercent",
    "neutralPercent",
    "advances",
    "declines",
    "unchanged",
    "totalStocks",
    "newsScore",
    "newsCount",
    "source",
    "asOf",
    "timestamp",
}


def snapshot_breadth(db_conn):
    """Advances, declines, unchanged of active NSE stocks, straight from stock_quotes."""
    row = fetch_all(
        db_conn,
        """
        SELECT CAST(SUM(q.ltp > q.prev_close) AS SIGNED) AS adv, CAST(SUM(q.ltp < q.prev_close) AS SIGNED) AS dec_,
               CAST(SUM(q.ltp = q.prev_close) AS SIGNED) AS unch
        FROM stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id
        WHERE s.is_active = 1 AND s.exchange = 'NSE'""",
    )[0]
    return row["adv"], row["dec_"], row["unch"]


def snapshot_rows(db_conn):
    return fetch_all(
        db_conn,
        "SELECT s.symbol, q.ltp, q.prev_close FROM stock_quotes q JOIN stocks s "
        "ON s.stock_id = q.stock_id WHERE s.is_active = 1 AND s.exchange = 'NSE'",
    )


def quote(symbol, prev_close, change, as_of):
    prev = Decimal(prev_close)
    ltp = prev + Decimal(change)
    return Quote(symbol, ltp, prev, prev, max(ltp, prev), min(ltp, prev), 1000, as_of)


def counts(result):
    return result.breadth.advances, result.breadth.declines, result.breadth.unchanged


def compute(app, now):
    with app.app_context():
        return compute_market_sentiment(now)


@pytest.fixture
def app(make_news_app):
    return make_news_app()


def fill_cache(app, quotes):
    with app.app_context():
        stock_prices().update(quotes)


def test_breadth_from_the_snapshot_when_the_market_is_closed(app, db_conn):
    rows = snapshot_rows(db_conn)
    fill_cache(app, [quote(r["symbol"], r["prev_close"], 5, CLOSED_NOW) for r in rows])  # ignored: closed
    result = compute(app, CLOSED_NOW)
    adv, dec, unch = snapshot_breadth(db_conn)
    assert counts(result) == (adv, dec, unch) and adv + dec + unch == len(rows) >= 200
    assert result.breadth.total == len(rows) and result.breadth.source == "database"
    assert result.breadth.score == pytest.approx(adv * 100 / (adv + dec))
    assert result.news_count == 0 and result.news_score == 50.0
    assert result.score == round(adv * 100 / (adv + dec), 2)


def test_breadth_from_the_snapshot_when_live_quotes_are_stale(app, db_conn):
    stale = OPEN_NOW - timedelta(seconds=60)  # LIVE_CACHE_MAX_AGE_S is 10
    fill_cache(app, [quote(r["symbol"], r["prev_close"], 5, stale) for r in snapshot_rows(db_conn)])
    result = compute(app, OPEN_NOW)
    assert counts(result) == snapshot_breadth(db_conn) and result.breadth.source == "database"


def test_breadth_from_live_prices_while_the_market_is_open(app, db_conn):
    rows = sorted(snapshot_rows(db_conn), key=lambda r: r["symbol"])
    fresh = OPEN_NOW - timedelta(seconds=2)
    changes = [1] * 100 + [-1] * 60 + [0] * (len(rows) - 160)
    fill_cache(app, [quote(r["symbol"], r["prev_close"], c, fresh) for r, c in zip(rows, changes, strict=True)])
    result = compute(app, OPEN_NOW)
    assert counts(result) == (100, 60, len(rows) - 160)
    assert result.breadth.source == "websocket_cache" and result.breadth.as_of == fresh
    assert result.breadth.percent(100) == round(100 * 100 / len(rows), 2)
    assert result.score == round(100 * 100 / 160, 2) and result.overall == "bullish"


def test_live_quotes_overlay_the_snapshot_stock_by_stock(app, db_conn):
    rows = sorted(snapshot_rows(db_conn), key=lambda r: r["symbol"])
    live = {r["symbol"]: quote(r["symbol"], r["prev_close"], -1, OPEN_NOW) for r in rows[:50]}
    fill_cache(
        app, [*live.values(), quote(rows[60]["symbol"], rows[60]["prev_close"], 3, OPEN_NOW - timedelta(minutes=5))]
    )  # one stale quote: its snapshot row counts instead
    expected = [0, 0, 0]
    for row in rows:
        ltp, prev = (
            (live[row["symbol"]].ltp, live[row["symbol"]].prev_close)
            if row["symbol"] in live
            else (row["ltp"], row["prev_close"])
        )
        expected[0 if ltp > prev else 1 if ltp < prev else 2] += 1
    result = compute(app, OPEN_NOW)
    assert list(counts(result)) == expected and result.breadth.source == "websocket_cache"


def add_news(db_conn, items):
    for i, (published, score, url) in enumerate(items):
        label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
        execute(
            db_conn,
            "INSERT INTO news (url_hash, url, headline, source, published_at, sentiment_label, "
            "sentiment_score) VALUES (SHA2(%s, 256), %s, %s, 'Test', %s, %s, %s)",
            (url, url, f"headline {i}", to_db(published), label, score),
        )


def test_news_score_uses_the_last_day_of_real_news(app, db_conn):
    add_news(
        db_conn,
        [
            (OPEN_NOW - timedelta(hours=1), 0.8, "https://n.test/1"),
            (OPEN_NOW - timedelta(hours=20), -0.2, "https://n.test/2"),
            (OPEN_NOW - timedelta(hours=30), -0.9, "https://n.test/old"),  # older than a day
            (OPEN_NOW - timedelta(hours=1), -0.9, "sim://news/2026-11-20/TCS"),  # simulated: not news
        ],
    )
    result = compute(app, OPEN_NOW)
    assert result.news_count == 2 and result.news_score == 65.0  # mean 0.3 → (0.3 + 1) * 50
    assert result.score == round(0.7 * result.breadth.score + 0.3 * 65.0, 2)
    assert result.overall == overall_for(result.score)


def test_overall_thresholds():
    assert [overall_for(s) for s in (100, 60, 59.99, 50, 40.01, 40, 0)] == [
        "bullish",
        "bullish",
        "neutral",
        "neutral",
        "neutral",
        "bearish",
        "bearish",
    ]


def test_endpoint_uses_live_prices_when_the_market_is_forced_open(make_news_app, db_conn):
    app = make_news_app(force_market_open=True)
    rows = snapshot_rows(db_conn)
    fill_cache(app, [quote(r["symbol"], r["prev_close"], -2, now_utc()) for r in rows])
    body = app.test_client().get("/sentiment/market").get_json()
    assert body["status"] == "success" and set(body["data"]) == FIELDS
    data = body["data"]
    assert (data["advances"], data["declines"], data["unchanged"], data["totalStocks"]) == (0, len(rows), 0, len(rows))
    assert (data["bullishPercent"], data["bearishPercent"], data["neutralPercent"]) == (0.0, 100.0, 0.0)
    assert (data["overall"], data["score"], data["source"]) == ("bearish", 0.0, "websocket_cache")
    assert data["timestamp"].endswith("+05:30") and data["asOf"].endswith("+05:30")


def test_endpoint_is_cached_for_its_ttl(make_news_app, db_conn):
    app = make_news_app(force_market_open=True)
    client = app.test_client()
    first = client.get("/sentiment/market").get_json()["data"]
    assert first["source"] == "database"  # nothing live yet
    fill_cache(app, [quote(r["symbol"], r["prev_close"], 1, now_utc()) for r in snapshot_rows(db_conn)])
    assert client.get("/sentiment/market").get_json()["data"] == first
    with app.app_context():
        clear_caches()
    assert client.get("/sentiment/market").get_json()["data"]["overall"] == "bullish"


def test_a_zero_ttl_turns_the_cache_off(make_news_app, db_conn):
    app = make_news_app(force_market_open=True, sentiment_cache_ttl_s=0)
    client = app.test_client()
    data = client.get("/sentiment/market").get_json()["data"]
    assert (data["advances"], data["declines"], data["unchanged"]) == snapshot_breadth(db_conn)
    fill_cache(app, [quote(r["symbol"], r["prev_close"], 1, now_utc()) for r in snapshot_rows(db_conn)])
    assert client.get("/sentiment/market").get_json()["data"]["source"] == "websocket_cache"
