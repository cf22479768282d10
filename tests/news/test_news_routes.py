"""GET /news/latest: shape, ordering, limit, text search with literal wildcards, symbol filter,
validation, caching; simulated headlines through the endpoint."""

import pytest

from controller.sql import execute
from services.news.headlines import refresh_news
from services.news.news_cache import clear_caches
from tests.conftest import SEED_NOW

ITEM_FIELDS = {"headline", "source", "summary", "timestamp", "imageUrl", "url", "category", "sentiment", "symbols"}


@pytest.fixture
def client(news_app):
    return news_app.test_client()


def headlines(response):
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "success" and body["count"] == len(body["data"])
    return [item["headline"] for item in body["data"]]


def test_latest_news_shape_and_order(client):
    body = client.get("/news/latest").get_json()
    assert body["count"] == 7
    items = body["data"]
    assert all(set(item) == ITEM_FIELDS for item in items)
    stamps = [item["timestamp"] for item in items]
    assert stamps == sorted(stamps, reverse=True) and all(s.endswith("+05:30") for s in stamps)
    reliance = next(i for i in items if i["headline"].startswith("Reliance"))
    assert reliance == {
        "headline": "Reliance Industries shares surge 4% after record quarterly profit",
        "source": "Example Markets & Business",
        "summary": "Shares of Reliance Industries rose sharply & hit a record high. Retail and Jio led the growth.",
        "timestamp": "2026-11-20T10:00:00.000+05:30",
        "imageUrl": "https://img.example.test/ril.jpg",
        "url": "https://news.example.test/markets/reliance-q2?id=101",
        "category": "Stocks",
        "sentiment": {"label": "positive", "score": reliance["sentiment"]["score"]},
        "symbols": ["RELIANCE"],
    }
    assert reliance["sentiment"]["score"] > 0.05


def test_limit(client):
    assert headlines(client.get("/news/latest?limit=2")) == [
        "BSE Sensex ends flat ahead of US inflation data",
        "Reliance Industries shares surge 4% after record quarterly profit",
    ]
    assert len(headlines(client.get("/news/latest?limit=50"))) == 7


def test_search_covers_headline_and_summary_case_insensitively(client):
    assert headlines(client.get("/news/latest?q=tcs")) == ["TCS shares fall 3% after weak quarterly results"]
    assert headlines(client.get("/news/latest?q=Consultancy")) == ["TCS shares fall 3% after weak quarterly results"]
    assert headlines(client.get("/news/latest?q=%20%20")) == headlines(client.get("/news/latest"))


def test_search_wildcards_are_literal(client):
    with_percent = headlines(client.get("/news/latest?q=%25"))  # q=%
    assert sorted(with_percent) == sorted(
        [
            "Reliance Industries shares surge 4% after record quarterly profit",
            "TCS shares fall 3% after weak quarterly results",
            "RBI keeps repo rate unchanged at 6.5%",
            "Tata Motors Passenger Vehicles slips 2% on weak demand outlook",
        ]
    )
    assert headlines(client.get("/news/latest?q=_")) == []
    assert headlines(client.get("/news/latest?q=!")) == []


def test_symbol_filter(client):
    assert headlines(client.get("/news/latest?symbol=tcs")) == ["TCS shares fall 3% after weak quarterly results"]
    assert headlines(client.get("/news/latest?symbol=SBIN")) == [
        "Sensex crashes 1,200 points as banks tumble on fraud probe"
    ]
    assert headlines(client.get("/news/latest?symbol=M%26M")) == [
        "Tata Motors Passenger Vehicles slips 2% on weak demand outlook"
    ]
    assert headlines(client.get("/news/latest?symbol=WIPRO")) == []  # known, no news
    assert headlines(client.get("/news/latest?symbol=HDFCBANK&q=tcs")) == []


def test_unknown_symbol_is_404(client):
    response = client.get("/news/latest?symbol=NOSUCHCO")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=51",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "q=" + "x" * 101,
        "symbol=RELI%20ANCE",
        "symbol=%3Cscript%3E",
        "symbol=" + "A" * 33,
        "symbol=",
    ],
)
def test_invalid_queries_are_400(client, query):
    response = client.get(f"/news/latest?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "error" and body["error"]["code"] == "VALIDATION_ERROR"


def test_the_longest_allowed_query_is_fine(client):
    assert client.get("/news/latest?q=" + "x" * 100).status_code == 200


def test_responses_are_cached_until_a_refresh_or_clear(news_app, client, db_config, db_conn):
    missed = client.get("/news/latest")
    before = headlines(missed)
    assert "cache;dur=" in missed.headers["Server-Timing"]  # a miss is timed; a fresh hit is a lookup, not timed
    execute(db_conn, "DELETE FROM news WHERE headline LIKE 'BSE Sensex%%'")
    assert headlines(client.get("/news/latest")) == before
    with news_app.app_context():
        clear_caches()
    assert headlines(client.get("/news/latest")) == before[1:]


def test_simulated_headlines_are_served_labelled(make_news_app):
    app = make_news_app(news_feeds=[])
    with app.app_context():
        refresh_news(now=SEED_NOW)
    items = app.test_client().get("/news/latest").get_json()["data"]
    assert len(items) == 6
    assert {item["source"] for item in items} == {"Simulated market"}
    assert all(item["url"].startswith("sim://news/2026-11-20/") and len(item["symbols"]) == 1 for item in items)
