"""Market sentiment: breadth (advances/declines) combined with the recent news score.

Breadth counts every active NSE stock once. While the market is open, a stock's fresh quote in
the live-price cache (at most LIVE_CACHE_MAX_AGE_S old) replaces its database snapshot; otherwise,
and for stocks without a fresh quote, the latest-quote table decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend import db
from backend.extensions import app_extensions
from controller.market import market_breadth
from controller.news import headlines
from services.market import market_clock
from services.market.live_price_cache import stock_prices
from services.news import news_cache
from utils.timeutil import as_utc, now_utc, to_db

NEWS_WINDOW = timedelta(hours=24)
BREADTH_WEIGHT = 0.7  # the rest is the news score, when there is recent news
BULLISH_AT = 60.0
BEARISH_AT = 40.0


@dataclass(frozen=True)
class Breadth:
    """Advancing, declining and unchanged stocks, where the prices came from and how recent they are."""

    advances: int
    declines: int
    unchanged: int
    source: str  # "websocket_cache" when any live quote was used, else "database"
    as_of: datetime | None

    @property
    def total(self) -> int:
        """Stocks counted."""
        return self.advances + self.declines + self.unchanged

    def percent(self, count: int) -> float:
        """`count` as a percentage of all stocks counted (2 decimals)."""
        return round(count * 100 / self.total, 2) if self.total else 0.0

    @property
    def score(self) -> float:
        """0-100: the share of advances among stocks that moved (50 when none moved)."""
        moved = self.advances + self.declines
        return self.advances * 100 / moved if moved else 50.0


@dataclass(frozen=True)
class MarketSentiment:
    """The /sentiment/market figures."""

    breadth: Breadth
    news_count: int
    news_score: float
    score: float
    overall: str
    timestamp: datetime


def breadth(conn: Any, now: datetime) -> Breadth:
    """Count advances/declines/unchanged from live quotes while the market is open, else the snapshot."""
    live = {}
    if market_clock.current_status(now).is_market_open:
        max_age = app_extensions()["settings"].live_cache_max_age_s
        live = {
            symbol: quote
            for symbol, quote in stock_prices().snapshot().items()
            if (now - quote.as_of).total_seconds() <= max_age
        }
    counts = {1: 0, -1: 0, 0: 0}
    used_live, newest = False, None
    for row in market_breadth.snapshot_quotes(conn):
        quote = live.get(row["symbol"])
        if quote is not None:
            ltp, prev_close, as_of, used_live = quote.ltp, quote.prev_close, quote.as_of, True
        else:
            ltp, prev_close, as_of = row["ltp"], row["prev_close"], as_utc(row["as_of"])
        counts[(ltp > prev_close) - (ltp < prev_close)] += 1
        newest = as_of if newest is None or as_of > newest else newest
    return Breadth(counts[1], counts[-1], counts[0], "websocket_cache" if used_live else "database", newest)


def overall_for(score: float) -> str:
    """bullish at >= 60, bearish at <= 40, neutral in between."""
    if score >= BULLISH_AT:
        return "bullish"
    if score <= BEARISH_AT:
        return "bearish"
    return "neutral"


def compute_market_sentiment(now: datetime | None = None) -> MarketSentiment:
    """Breadth plus the mean headline sentiment of the last 24 hours (real news only), uncached."""
    now = now or now_utc()
    with db.connection() as conn:
        counted = breadth(conn, now)
        news_count, mean = headlines.sentiment_stats(conn, to_db(now - NEWS_WINDOW), to_db(now))
    news_score = round((mean + 1) * 50, 2) if news_count else 50.0
    score = BREADTH_WEIGHT * counted.score + (1 - BREADTH_WEIGHT) * news_score if news_count else counted.score
    score = round(score, 2)
    return MarketSentiment(counted, news_count, news_score, score, overall_for(score), now)


def market_sentiment() -> MarketSentiment:
    """The current market sentiment, cached for SENTIMENT_CACHE_TTL_S."""
    return news_cache.cached(news_cache.SENTIMENT, "market", compute_market_sentiment)
