"""Stored news: upserts keyed by URL hash, symbol tags, the latest-news query, sentiment stats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import execute, execute_many, fetch_all, fetch_value
from utils.text import like_contains

# Simulated headlines live under this URL scheme; feeds only ever give http(s) URLs, so the two
# kinds can never collide and a simulated row can never overwrite a real one.
SIMULATED_URL_PREFIX = "sim://news/"
_SIMULATED_LIKE = SIMULATED_URL_PREFIX + "%"
SYMBOLS_MAX_CHARS = 500  # news.symbols VARCHAR(500)


@dataclass(frozen=True)
class NewsContent:
    """What an item says and where it comes from (plain text; URLs are http(s) or sim://)."""

    url: str
    headline: str
    summary: str | None
    source: str
    category: str | None
    image_url: str | None


@dataclass(frozen=True)
class NewsRecord(NewsContent):
    """One item ready to store; `published_at` is naive UTC, `symbols` are (stock_id, symbol)."""

    url_hash: str
    published_at: datetime
    sentiment_label: str
    sentiment_score: float
    symbols: tuple[tuple[int, str], ...] = ()

    def symbols_text(self) -> str:
        """The comma list stored in news.symbols, cut at whole symbols to fit the column."""
        text = ""
        for _, symbol in self.symbols:
            candidate = f"{text},{symbol}" if text else symbol
            if len(candidate) > SYMBOLS_MAX_CHARS:
                break
            text = candidate
        return text


@dataclass(frozen=True)
class NewsRow(NewsContent):
    """One stored item as read back for /news/latest."""

    news_id: int
    published_at: datetime
    sentiment_label: str
    sentiment_score: Decimal
    symbols: tuple[str, ...]


# On a duplicate URL the newer copy wins, except that an empty summary, category or image never
# wipes a stored one and the first-seen publication time is kept.
_UPSERT = """
INSERT INTO news (url_hash, url, headline, summary, source, category, image_url, published_at,
    sentiment_label, sentiment_score, symbols, fetched_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE headline = VALUES(headline), summary = COALESCE(VALUES(summary), summary),
    source = VALUES(source), category = COALESCE(VALUES(category), category),
    image_url = COALESCE(VALUES(image_url), image_url), sentiment_label = VALUES(sentiment_label),
    sentiment_score = VALUES(sentiment_score), symbols = VALUES(symbols), fetched_at = VALUES(fetched_at)
"""
_COLUMNS = """n.news_id, n.url, n.headline, n.summary, n.source, n.category, n.image_url, n.published_at,
    n.sentiment_label, n.sentiment_score, n.symbols"""


def _ids_by_hash(conn: Any, hashes: Sequence[str]) -> dict[str, int]:
    marks = ", ".join(["%s"] * len(hashes))
    rows = fetch_all(conn, f"SELECT url_hash, news_id FROM news WHERE url_hash IN ({marks})", list(hashes))
    return {row["url_hash"]: row["news_id"] for row in rows}


def upsert_news(conn: Any, records: Sequence[NewsRecord], fetched_at: datetime) -> int:
    """Insert new items and refresh known ones (by URL hash) with their symbol tags; return how many were new."""
    if not records:
        return 0
    hashes = [r.url_hash for r in records]
    known = _ids_by_hash(conn, hashes)
    execute_many(
        conn,
        _UPSERT,
        [
            (
                r.url_hash,
                r.url,
                r.headline,
                r.summary,
                r.source,
                r.category,
                r.image_url,
                r.published_at,
                r.sentiment_label,
                r.sentiment_score,
                r.symbols_text(),
                fetched_at,
            )
            for r in records
        ],
    )
    ids = _ids_by_hash(conn, hashes)
    marks = ", ".join(["%s"] * len(ids))
    execute(conn, f"DELETE FROM news_symbols WHERE news_id IN ({marks})", list(ids.values()))
    execute_many(
        conn,
        "INSERT INTO news_symbols (news_id, stock_id) VALUES (%s, %s)",
        [(ids[r.url_hash], stock_id) for r in records for stock_id, _ in r.symbols],
    )
    return len(set(hashes) - set(known))


def stock_id_for(conn: Any, symbol: str) -> int | None:
    """The stock id of an active symbol (NSE first), or None."""
    return fetch_value(
        conn,
        "SELECT stock_id FROM stocks WHERE symbol = %s AND is_active = 1 ORDER BY exchange = 'NSE' DESC LIMIT 1",
        (symbol,),
    )


def instruments(conn: Any) -> list[tuple[int, str, str]]:
    """(stock_id, symbol, company_name) of every active stock, NSE listings first (symbol tagging)."""
    rows = fetch_all(
        conn,
        "SELECT stock_id, symbol, company_name FROM stocks WHERE is_active = 1 "
        "ORDER BY exchange = 'NSE' DESC, stock_id",
    )
    return [(row["stock_id"], row["symbol"], row["company_name"]) for row in rows]


def latest(conn: Any, limit: int, query: str | None = None, stock_id: int | None = None) -> list[NewsRow]:
    """The newest items, optionally containing `query` (headline or summary) or tagged with `stock_id`."""
    joins, where, params = "", [], []
    if stock_id is not None:
        joins = "JOIN news_symbols ns ON ns.news_id = n.news_id"
        where.append("ns.stock_id = %s")
        params.append(stock_id)
    if query:
        where.append("(n.headline LIKE %s ESCAPE '!' OR n.summary LIKE %s ESCAPE '!')")
        params += [like_contains(query)] * 2
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM news n {joins} {clause} ORDER BY n.published_at DESC, n.news_id DESC LIMIT %s",
        [*params, limit],
    )
    return [NewsRow(**{**row, "symbols": tuple(s for s in row["symbols"].split(",") if s)}) for row in rows]


def purge_published_before(conn: Any, cutoff: datetime) -> int:
    """Delete the news published before `cutoff` (their symbol tags go with them); return how many."""
    return execute(conn, "DELETE FROM news WHERE published_at < %s", (cutoff,))[0]


def has_real_news_since(conn: Any, since: datetime) -> bool:
    """True when a feed (not the simulator) has stored an item published at or after `since`."""
    return (
        fetch_value(
            conn, "SELECT 1 FROM news WHERE published_at >= %s AND url NOT LIKE %s LIMIT 1", (since, _SIMULATED_LIKE)
        )
        is not None
    )


def sentiment_stats(conn: Any, since: datetime, until: datetime) -> tuple[int, float | None]:
    """(count, mean compound score) of real (not simulated) items published in [since, until]."""
    row = fetch_all(
        conn,
        "SELECT COUNT(*) AS n, AVG(sentiment_score) AS mean FROM news "
        "WHERE published_at BETWEEN %s AND %s AND url NOT LIKE %s",
        (since, until, _SIMULATED_LIKE),
    )[0]
    return int(row["n"]), None if row["mean"] is None else float(row["mean"])
