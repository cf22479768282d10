"""Market sentiment: breadth from live prices (market open) or the snapshot, plus the news score."""

from __future__ import annotations

from flask import Blueprint

from services.news.market_sentiment import market_sentiment
from utils.timeutil import iso_ist

bp = Blueprint("sentiment", __name__)


@bp.get("/market")
def market():
    """Overall mood, 0-100 score, advances/declines/unchanged with percents, and the news score."""
    result = market_sentiment()
    counted = result.breadth
    return {
        "status": "success",
        "data": {
            "overall": result.overall,
            "score": result.score,
            "bullishPercent": counted.percent(counted.advances),
            "bearishPercent": counted.percent(counted.declines),
            "neutralPercent": counted.percent(counted.unchanged),
            "advances": counted.advances,
            "declines": counted.declines,
            "unchanged": counted.unchanged,
            "totalStocks": counted.total,
            "newsScore": result.news_score,
            "newsCount": result.news_count,
            "source": counted.source,
            "asOf": iso_ist(counted.as_of),
            "timestamp": iso_ist(result.timestamp),
        },
    }
