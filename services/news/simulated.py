"""Headlines the simulator writes about its own top movers when no real feed is reachable.

Every item says what it is: `source` is "Simulated market", the summary says it is not real news,
and the URL is `sim://news/<IST date>/<symbol>`, so a mover gets one item per day (refreshed in
place) and can never collide with, or overwrite, a real article.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.market.market_breadth import top_movers
from controller.news.headlines import SIMULATED_URL_PREFIX, NewsRecord
from services.news.feeds import url_hash
from utils.sentiment import score_text
from utils.timeutil import ist_date, to_db

SIMULATED_SOURCE = "Simulated market"
CATEGORY = "Market movers"
MOVERS_PER_SIDE = 3
_RISERS = (
    "{symbol} rises {pct}% as {company} outperforms the market",
    "{company} shares gain {pct}%, among the top {sector} movers",
    "{symbol} climbs {pct}% on strong buying interest",
)
_FALLERS = (
    "{symbol} falls {pct}% as {company} lags the market",
    "{company} shares slip {pct}%, among the weakest {sector} stocks",
    "{symbol} declines {pct}% amid selling pressure",
)
_SUMMARY = (
    "Simulated headline generated from the simulator's prices, not real news: {company} ({symbol}) "
    "trades at ₹{ltp:,.2f}, {sign}{pct}% against the previous close of ₹{prev:,.2f}."
)


def _company(name: str) -> str:
    for suffix in (" Ltd.", " Ltd", " Limited"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _record(mover: dict[str, Any], templates: tuple[str, ...], day: str, now: datetime) -> NewsRecord:
    symbol = mover["symbol"]
    pct = abs(Decimal(mover["change_pct"])).quantize(Decimal("0.01"))
    fields = {"symbol": symbol, "company": _company(mover["company_name"]), "sector": mover["sector"], "pct": pct}
    # The same mover on the same day always reads the same way (deterministic, varied across movers).
    headline = templates[zlib.crc32(f"{day}:{symbol}".encode()) % len(templates)].format(**fields)
    summary = _SUMMARY.format(
        **fields, ltp=mover["ltp"], prev=mover["prev_close"], sign="+" if mover["change_pct"] > 0 else "-"
    )
    url = f"{SIMULATED_URL_PREFIX}{day}/{symbol}"
    sentiment = score_text(headline)
    return NewsRecord(
        url_hash=url_hash(url),
        url=url,
        headline=headline,
        summary=summary,
        source=SIMULATED_SOURCE,
        category=CATEGORY,
        image_url=None,
        published_at=to_db(now),
        sentiment_label=sentiment.label,
        sentiment_score=sentiment.score,
        symbols=((mover["stock_id"], symbol),),
    )


def simulated_records(conn: Any, now: datetime) -> list[NewsRecord]:
    """Headlines about today's biggest gainers and losers in the latest-quote table."""
    gainers, losers = top_movers(conn, MOVERS_PER_SIDE)
    day = ist_date(now)
    return [_record(m, _RISERS, day, now) for m in gainers] + [_record(m, _FALLERS, day, now) for m in losers]
