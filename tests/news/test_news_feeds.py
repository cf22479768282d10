"""Feed download and parsing against RSS/Atom fixtures served on loopback: fields, HTML stripping,
timeouts (a slow and a trickling feed), malformed feeds, error pages, URL de-duplication keys."""

import time
from datetime import UTC, datetime

import pytest

from backend.local_mariadb import free_port
from services.news.feeds import FeedError, feed_client, fetch_feed, normalize_url, url_hash


@pytest.fixture
def session():
    client = feed_client(2)
    yield client
    client.close()


def test_rss_items_are_plain_text_with_links_dates_images_and_categories(feeds, session):
    items = fetch_feed(session, feeds.url("/rss.xml"), 2, 50)
    assert [i.headline for i in items] == [
        "Reliance Industries shares surge 4% after record quarterly profit",
        "TCS shares fall 3% after weak quarterly results",
        "RBI keeps repo rate unchanged at 6.5%",
        "Sensex crashes 1,200 points as banks tumble on fraud probe",
        "Infosys wins $2 billion deal; stock rallies",
    ]  # the untitled item and the javascript: link are dropped, never stored as placeholders
    first = items[0]
    assert first.summary == (
        "Shares of Reliance Industries rose sharply & hit a record high. Retail and Jio led the growth."
    )
    assert first.source == "Example Markets & Business"
    assert first.category == "Stocks"
    assert first.image_url == "https://img.example.test/ril.jpg"
    assert first.published_at == datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    assert items[4].image_url == "https://img.example.test/infy.png"  # from an image enclosure
    assert items[3].category is None and items[2].image_url is None


def test_atom_entries_parse_html_titles_content_and_offsets(feeds, session):
    items = fetch_feed(session, feeds.url("/atom.xml"), 2, 50)
    assert len(items) == 3 and {i.source for i in items} == {"Example Wire"}
    tmpv = items[1]
    assert tmpv.headline == "Tata Motors Passenger Vehicles slips 2% on weak demand outlook"
    assert tmpv.summary == "M&M gained while TMPV fell."
    assert tmpv.category == "Autos"
    assert tmpv.published_at == datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # 05:00+05:30
    assert items[2].published_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # only <updated>


def test_max_items_per_feed(feeds, session):
    assert len(fetch_feed(session, feeds.url("/rss.xml"), 2, 2)) == 2


@pytest.mark.parametrize(
    "path,reason",
    [
        ("/truncated.xml", "malformed"),
        ("/not-a-feed.html", "not a feed"),
        ("/missing.xml", "HTTP 500"),
    ],
)
def test_broken_feeds_raise_feed_error(feeds, session, path, reason):
    with pytest.raises(FeedError, match=reason):
        fetch_feed(session, feeds.url(path), 2, 50)


def test_an_unreachable_host_raises_feed_error(session):
    with pytest.raises(FeedError, match="unreachable"):
        fetch_feed(session, f"http://127.0.0.1:{free_port()}/rss.xml", 2, 50)


@pytest.mark.parametrize("path", ["/slow.xml", "/trickle.xml"])
def test_slow_feeds_give_up_at_the_timeout(feeds, session, path):
    started = time.monotonic()
    with pytest.raises(FeedError, match="timed out|took longer"):
        fetch_feed(session, feeds.url(path), 0.4, 50)
    assert time.monotonic() - started < 1.5


def test_urls_are_normalized_before_hashing():
    assert normalize_url(" https://a.test/x?id=1&utm_source=rss&utm_medium=feed#top ") == "https://a.test/x?id=1"
    assert url_hash("https://a.test/x#comments") == url_hash("https://a.test/x?utm_campaign=y")
    assert url_hash("https://a.test/x") != url_hash("https://a.test/y")
    assert len(url_hash("https://a.test/x")) == 64
