"""The news job (fetch feeds, score, tag, store; simulated headlines as a fallback) and news reads."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from backend import db
from backend.extensions import app_extensions, socketio
from controller.news import headlines as news_sql
from controller.news.headlines import NewsRecord, NewsRow
from services.news import news_cache
from services.news.feeds import FeedError, FeedItem, display_url, feed_client, fetch_feed, normalize_url, url_hash
from services.news.simulated import simulated_records
from utils import metrics
from utils.errors import NotFound
from utils.reference_data import load_news_aliases
from utils.sentiment import score_text
from utils.symbol_matcher import SymbolMatcher
from utils.timeutil import now_utc, to_db

log = logging.getLogger(__name__)
# Simulated headlines appear only when no feed has delivered anything published this recently.
RECENT_REAL_NEWS = timedelta(hours=24)
# A publication time further in the future than this is a feed's clock error: use the fetch time.
FUTURE_TOLERANCE = timedelta(minutes=5)
_matcher_lock = threading.Lock()


def symbol_matcher() -> SymbolMatcher:
    """The app's symbol/company-name matcher, built from the stocks table on first use."""
    matcher = app_extensions().get("news_symbol_matcher")
    if matcher is None:
        with _matcher_lock:
            matcher = app_extensions().get("news_symbol_matcher")
            if matcher is None:
                with db.connection() as conn:
                    instruments = news_sql.instruments(conn)
                matcher = SymbolMatcher(instruments, load_news_aliases())
                app_extensions()["news_symbol_matcher"] = matcher
    return matcher


def reset_symbol_matcher() -> None:
    """Rebuild the matcher on next use (after the universe changes; tests)."""
    app_extensions().pop("news_symbol_matcher", None)


def to_record(item: FeedItem, matcher: SymbolMatcher, now: datetime) -> NewsRecord:
    """Score, tag and timestamp one feed item for storage."""
    published = item.published_at or now
    if published > now + FUTURE_TOLERANCE:
        published = now
    sentiment = score_text(item.headline)
    return NewsRecord(
        url_hash=url_hash(item.url),
        url=normalize_url(item.url),
        headline=item.headline,
        summary=item.summary,
        source=item.source,
        category=item.category,
        image_url=item.image_url,
        published_at=to_db(published),
        sentiment_label=sentiment.label,
        sentiment_score=sentiment.score,
        symbols=tuple(matcher.find(f"{item.headline}\n{item.summary or ''}")),
    )


def _unique_records(items: list[FeedItem], now: datetime) -> list[NewsRecord]:
    """Records of `items`, the first copy of each URL only (feeds often repeat each other)."""
    unique: dict[str, FeedItem] = {}
    for item in items:
        unique.setdefault(url_hash(item.url), item)
    if not unique:
        return []
    matcher = symbol_matcher()
    return [to_record(item, matcher, now) for item in unique.values()]


def _fetch_all(feeds: list[str], timeout_s: float, max_items: int) -> tuple[list[FeedItem], list[str]]:
    items: list[FeedItem] = []
    failed: list[str] = []
    client = feed_client(timeout_s)
    try:
        for url in feeds:
            try:
                items += fetch_feed(client, url, timeout_s, max_items)
            except FeedError as exc:
                metrics.NEWS_FEED_FETCHES.labels("error").inc()
                failed.append(display_url(url))
                log.warning("news feed %s skipped: %s", display_url(url), exc)
            else:
                metrics.NEWS_FEED_FETCHES.labels("ok").inc()
            socketio.sleep(0)  # parsing is CPU-bound: let requests in between feeds (gevent/eventlet)
    finally:
        client.close()
    return items, failed


def refresh_news(now: datetime | None = None) -> dict:
    """Fetch every feed of NEWS_FEEDS and store its items (run inside an app context); return a report.

    A failing feed is logged and skipped. News published more than NEWS_RETENTION_DAYS ago is deleted
    (and not stored again when a feed still lists it). With the simulator provider, when no feed delivered
    anything and nothing real was published in the last day, simulated mover headlines are stored.
    """
    settings = app_extensions()["settings"]
    now = now or now_utc()
    started = time.perf_counter()
    items, failed = _fetch_all(settings.news_feeds, settings.news_fetch_timeout_s, settings.news_max_items_per_feed)
    cutoff = to_db(now - timedelta(days=settings.news_retention_days))
    records = [r for r in _unique_records(items, now) if r.published_at >= cutoff]  # older: purged below anyway
    simulated: list[NewsRecord] = []
    with db.transaction() as conn:
        purged = news_sql.purge_published_before(conn, cutoff)
        new = news_sql.upsert_news(conn, records, to_db(now))
        if (
            not records
            and settings.market_data_provider == "simulator"
            and not news_sql.has_real_news_since(conn, to_db(now - RECENT_REAL_NEWS))
        ):
            simulated = simulated_records(conn, now)
            news_sql.upsert_news(conn, simulated, to_db(now))
    metrics.NEWS_ITEMS_STORED.labels("feed").inc(new)
    metrics.NEWS_ITEMS_STORED.labels("simulated").inc(len(simulated))
    if records or simulated or purged:
        news_cache.clear_caches()
    elapsed = time.perf_counter() - started
    metrics.NEWS_REFRESH_SECONDS.observe(elapsed)
    report = {
        "feeds": len(settings.news_feeds),
        "failed": failed,
        "items": len(records),
        "new": new,
        "simulated": len(simulated),
        "purged": purged,
        "duration_ms": round(elapsed * 1000),
    }
    log.info("news refresh: %s", report)
    return report


def latest_news(limit: int, query: str | None = None, symbol: str | None = None) -> list[NewsRow]:
    """The newest stored items (cached), filtered by text and/or symbol; NotFound for an unknown symbol."""

    def load() -> list[NewsRow]:
        with db.connection() as conn:
            stock_id = None
            if symbol is not None:
                stock_id = news_sql.stock_id_for(conn, symbol)
                if stock_id is None:
                    raise NotFound(f"unknown symbol {symbol}", {"symbol": symbol})
            return news_sql.latest(conn, limit, query, stock_id)

    return news_cache.cached(news_cache.NEWS, (limit, query, symbol), load)
