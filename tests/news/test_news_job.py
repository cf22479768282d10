"""The news job against loopback feeds and the real database: storage, de-duplication, symbol tags,
sentiment, failing feeds, and the simulator's labelled headlines."""

import time
from datetime import datetime, timedelta

import pytest

from backend.local_mariadb import free_port
from controller.sql import fetch_all, fetch_value
from services.news.headlines import refresh_news
from services.news.simulated import SIMULATED_SOURCE
from tests.conftest import SEED_NOW
from utils.sentiment import score_text
from utils.timeutil import to_db

NOW = SEED_NOW  # Friday 2026-11-20 11:00 IST, after every fixture item was published
RSS_HEADLINES = 5
ATOM_ONLY = 2  # the Atom feed repeats the RSS feed's Infosys story


def run(app, now=NOW):
    with app.app_context():
        return refresh_news(now=now)


def stored(db_conn):
    rows = fetch_all(db_conn, "SELECT * FROM news ORDER BY published_at DESC, news_id DESC")
    return {row["headline"]: row for row in rows}


def tags(db_conn, headline):
    return sorted(
        r["symbol"]
        for r in fetch_all(
            db_conn,
            """
        SELECT s.symbol FROM news n JOIN news_symbols ns ON ns.news_id = n.news_id
        JOIN stocks s ON s.stock_id = ns.stock_id WHERE n.headline = %s""",
            (headline,),
        )
    )


def test_good_feeds_are_stored_while_slow_malformed_and_dead_ones_are_skipped_promptly(make_news_app, feeds, db_conn):
    dead = f"http://127.0.0.1:{free_port()}/rss.xml"
    app = make_news_app(
        news_feeds=[
            feeds.url("/rss.xml"),
            feeds.url("/slow.xml"),
            feeds.url("/truncated.xml"),
            feeds.url("/atom.xml"),
            feeds.url("/not-a-feed.html"),
            dead,
        ],
        news_fetch_timeout_s=0.5,
    )
    started = time.monotonic()
    report = run(app)
    assert time.monotonic() - started < 3
    assert report["feeds"] == 6
    assert report["failed"] == [
        feeds.url("/slow.xml"),
        feeds.url("/truncated.xml"),
        feeds.url("/not-a-feed.html"),
        dead,
    ]
    assert report["items"] == report["new"] == RSS_HEADLINES + ATOM_ONLY
    assert report["simulated"] == 0
    assert len(stored(db_conn)) == RSS_HEADLINES + ATOM_ONLY


def test_the_same_url_across_feeds_and_runs_is_one_row(make_news_app, feeds, db_conn):
    app = make_news_app(news_feeds=[feeds.url("/rss.xml"), feeds.url("/atom.xml"), feeds.url("/rss.xml")])
    first = run(app)
    second = run(app, NOW + timedelta(minutes=5))
    assert first["new"] == RSS_HEADLINES + ATOM_ONLY and second["new"] == 0
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM news") == RSS_HEADLINES + ATOM_ONLY
    infosys = fetch_all(db_conn, "SELECT url, summary FROM news WHERE headline LIKE 'Infosys%%'")
    # RSS came first; its copy (without tracking parameters or fragments) is the one kept
    assert infosys == [
        {
            "url": "https://news.example.test/markets/infosys-deal",
            "summary": "The IT major signed its largest contract this year.",
        }
    ]
    reliance = stored(db_conn)["Reliance Industries shares surge 4% after record quarterly profit"]
    assert reliance["url"] == "https://news.example.test/markets/reliance-q2?id=101"
    assert (
        fetch_value(db_conn, "SELECT COUNT(*) FROM news_symbols WHERE news_id = %s", (reliance["news_id"],)) == 1
    )  # tags replaced, not duplicated, on the second run


def test_items_are_tagged_with_the_companies_they_mention(make_news_app, feeds, db_conn):
    run(make_news_app(news_feeds=[feeds.url("/rss.xml"), feeds.url("/atom.xml")]))
    rows = stored(db_conn)
    assert tags(db_conn, "Reliance Industries shares surge 4% after record quarterly profit") == ["RELIANCE"]
    assert tags(db_conn, "TCS shares fall 3% after weak quarterly results") == ["TCS"]
    crash = "Sensex crashes 1,200 points as banks tumble on fraud probe"
    assert tags(db_conn, crash) == ["HDFCBANK", "SBIN"]  # "BSE Sensex" is the exchange, not BSE Ltd
    assert rows[crash]["symbols"] == "HDFCBANK,SBIN"
    tmpv = "Tata Motors Passenger Vehicles slips 2% on weak demand outlook"
    assert tags(db_conn, tmpv) == ["M&M", "TMPV"] and rows[tmpv]["symbols"] == "TMPV,M&M"
    assert tags(db_conn, "RBI keeps repo rate unchanged at 6.5%") == []
    assert rows["RBI keeps repo rate unchanged at 6.5%"]["symbols"] == ""


def test_sentiment_is_scored_and_html_stripped(make_news_app, feeds, db_conn):
    run(make_news_app(news_feeds=[feeds.url("/rss.xml")]))
    rows = stored(db_conn)
    labels = {headline: row["sentiment_label"] for headline, row in rows.items()}
    assert labels == {
        "Reliance Industries shares surge 4% after record quarterly profit": "positive",
        "TCS shares fall 3% after weak quarterly results": "negative",
        "RBI keeps repo rate unchanged at 6.5%": "neutral",
        "Sensex crashes 1,200 points as banks tumble on fraud probe": "negative",
        "Infosys wins $2 billion deal; stock rallies": "positive",
    }
    for headline, row in rows.items():
        assert float(row["sentiment_score"]) == pytest.approx(score_text(headline).score, abs=1e-4)
    reliance = rows["Reliance Industries shares surge 4% after record quarterly profit"]
    assert "<" not in reliance["summary"] and "alert" not in reliance["summary"]
    assert reliance["published_at"] == datetime(2026, 11, 20, 4, 30)  # UTC
    assert reliance["image_url"] == "https://img.example.test/ril.jpg" and reliance["category"] == "Stocks"


CUSTOM_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Custom</title>
<item><title>{title}</title><link>https://custom.example.test/a</link>{extra}</item>
<item><title>Undated item</title><link>https://custom.example.test/undated</link></item>
</channel></rss>"""


def test_stored_news_is_never_replaced_by_placeholders(make_news_app, feeds, db_conn):
    app = make_news_app(news_feeds=[feeds.url("/custom.xml")])
    feeds.overrides["/custom.xml"] = CUSTOM_FEED.format(
        title="Wipro shares rise",
        extra="<description>Full story.</description><category>IT</category>"
        "<pubDate>Fri, 20 Nov 2026 05:00:00 GMT</pubDate>",
    ).encode()
    run(app)
    # the same article again, retitled, without summary, category or date
    feeds.overrides["/custom.xml"] = CUSTOM_FEED.format(title="Wipro shares rise 2%", extra="").encode()
    assert run(app, NOW + timedelta(hours=1))["new"] == 0
    row = fetch_all(db_conn, "SELECT * FROM news WHERE url = 'https://custom.example.test/a'")[0]
    assert (row["headline"], row["summary"], row["category"]) == ("Wipro shares rise 2%", "Full story.", "IT")
    assert row["published_at"] == datetime(2026, 11, 20, 5, 0)
    undated = fetch_all(db_conn, "SELECT published_at FROM news WHERE url LIKE '%%undated'")[0]
    assert undated["published_at"] == to_db(NOW)  # first seen, not moved by later runs
    before = fetch_all(db_conn, "SELECT * FROM news ORDER BY news_id")
    del feeds.overrides["/custom.xml"]  # the feed now answers 500
    report = run(app, NOW + timedelta(hours=2))
    assert report["failed"] == [feeds.url("/custom.xml")] and report["simulated"] == 0
    assert fetch_all(db_conn, "SELECT * FROM news ORDER BY news_id") == before


def test_news_older_than_the_retention_is_deleted_and_not_stored_again(make_news_app, feeds, db_conn):
    app = make_news_app(
        news_feeds=[feeds.url("/rss.xml"), feeds.url("/custom.xml")],
        news_retention_days=30,
        market_data_provider="upstox",
        upstox_access_token="t",
    )  # no simulated headlines
    first = run(app)
    assert first["new"] == RSS_HEADLINES and first["purged"] == 0
    month_later = NOW + timedelta(days=30, hours=12)  # the RSS items are now more than 30 days old
    feeds.overrides["/custom.xml"] = CUSTOM_FEED.format(
        title="Fresh item", extra="<pubDate>Sun, 20 Dec 2026 05:00:00 GMT</pubDate>"
    ).encode()
    second = run(app, month_later)
    assert second["purged"] == RSS_HEADLINES and second["new"] == 2  # the fresh and the undated item
    assert sorted(stored(db_conn)) == ["Fresh item", "Undated item"]
    assert (
        fetch_value(
            db_conn, "SELECT COUNT(*) FROM news_symbols ns LEFT JOIN news n USING (news_id) WHERE n.news_id IS NULL"
        )
        == 0
    )  # their tags went with them
    third = run(app, month_later + timedelta(minutes=5))  # the RSS feed still lists them: not stored again
    assert (third["purged"], third["new"]) == (0, 0) and len(stored(db_conn)) == 2


def test_a_publication_time_in_the_future_becomes_the_fetch_time(make_news_app, feeds, db_conn):
    feeds.overrides["/custom.xml"] = CUSTOM_FEED.format(
        title="Future item", extra="<pubDate>Fri, 20 Nov 2099 05:00:00 GMT</pubDate>"
    ).encode()
    run(make_news_app(news_feeds=[feeds.url("/custom.xml")]))
    assert fetch_value(db_conn, "SELECT published_at FROM news WHERE headline = 'Future item'") == to_db(NOW)


def movers(db_conn, order):
    return [
        r["symbol"]
        for r in fetch_all(
            db_conn,
            f"""
        SELECT s.symbol FROM stock_quotes q JOIN stocks s USING (stock_id)
        WHERE q.change_pct {">" if order == "DESC" else "<"} 0 ORDER BY q.change_pct {order}, s.symbol LIMIT 3""",
        )
    ]


def simulated(db_conn):
    return fetch_all(db_conn, "SELECT * FROM news WHERE source = %s ORDER BY news_id", (SIMULATED_SOURCE,))


def test_the_simulator_writes_labelled_headlines_when_no_feed_answers(make_news_app, db_conn):
    app = make_news_app(news_feeds=[f"http://127.0.0.1:{free_port()}/rss.xml"])
    report = run(app)
    assert report["items"] == 0 and report["simulated"] == 6
    rows = simulated(db_conn)
    expected = movers(db_conn, "DESC") + movers(db_conn, "ASC")
    assert [r["url"] for r in rows] == [f"sim://news/2026-11-20/{symbol}" for symbol in expected]
    for row, symbol in zip(rows, expected, strict=True):
        assert row["symbols"] == symbol and tags(db_conn, row["headline"]) == [symbol]
        assert "not real news" in row["summary"] and row["category"] == "Market movers"
        assert row["published_at"] == to_db(NOW)
    assert {r["sentiment_label"] for r in rows[:3]} == {"positive"}
    assert {r["sentiment_label"] for r in rows[3:]} == {"negative"}
    # a later run the same day refreshes the same six items
    assert run(app, NOW + timedelta(minutes=5))["simulated"] == 6
    assert len(simulated(db_conn)) == 6
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM news") == 6


def test_no_simulated_headlines_while_real_news_is_recent(make_news_app, feeds, db_conn):
    run(make_news_app(news_feeds=[feeds.url("/rss.xml")]))
    report = run(make_news_app(news_feeds=[]), NOW + timedelta(hours=3))
    assert report["simulated"] == 0 and simulated(db_conn) == []


def test_simulated_headlines_never_touch_real_news(make_news_app, feeds, db_conn):
    run(make_news_app(news_feeds=[feeds.url("/rss.xml")]))
    real = fetch_all(db_conn, "SELECT * FROM news ORDER BY news_id")
    later = NOW + timedelta(days=3)  # the real news is now old: the simulator fills in
    assert run(make_news_app(news_feeds=[]), later)["simulated"] == 6
    assert fetch_all(db_conn, "SELECT * FROM news WHERE source <> %s ORDER BY news_id", (SIMULATED_SOURCE,)) == real
    assert all(r["url"].startswith("sim://news/2026-11-23/") for r in simulated(db_conn))


def test_other_providers_never_simulate(make_news_app, db_conn):
    app = make_news_app(news_feeds=[], market_data_provider="upstox", upstox_access_token="test-token")
    assert run(app)["simulated"] == 0
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM news") == 0


def test_a_feed_host_that_does_not_resolve_is_skipped_and_the_simulator_fills_in(make_news_app, db_conn):
    app = make_news_app(news_feeds=["http://news.invalid/rss.xml"])  # .invalid never resolves (RFC 2606)
    report = run(app)
    assert report["failed"] == ["http://news.invalid/rss.xml"] and report["simulated"] == 6
