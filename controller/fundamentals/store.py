"""The `fundamentals` and `fundamental_quarters` tables: store a crawl's figures, read them for the PEG table and a
stock's page, and list what a crawl covers (the active NSE stocks that have a quote)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controller.fundamentals.models import QUARTERS_KEPT, CrawlTarget, Fundamentals
from controller.sql import Pause, execute, execute_values, fetch_all, fetch_value
from utils.timeutil import to_db

_UPSERT = """
INSERT INTO fundamentals (stock_id, source, as_of, period_end, shares_outstanding, eps_ttm, eps_growth_yoy_pct,
    eps_cagr_3y_pct, book_value_per_share, dividend_per_share, roe_pct, debt_to_equity)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE source = VALUES(source), as_of = VALUES(as_of), period_end = VALUES(period_end),
    shares_outstanding = VALUES(shares_outstanding), eps_ttm = VALUES(eps_ttm),
    eps_growth_yoy_pct = VALUES(eps_growth_yoy_pct), eps_cagr_3y_pct = VALUES(eps_cagr_3y_pct),
    book_value_per_share = VALUES(book_value_per_share), dividend_per_share = VALUES(dividend_per_share),
    roe_pct = VALUES(roe_pct), debt_to_equity = VALUES(debt_to_equity)
"""
_INSERT_QUARTERS = (
    "INSERT INTO fundamental_quarters (stock_id, period_end, revenue, net_profit, eps) VALUES (%s, %s, %s, %s, %s)"
)
_UNIVERSE = """
SELECT s.stock_id, s.symbol, s.company_name, s.sector, q.prev_close AS price
FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id
WHERE s.is_active = 1 AND s.exchange = 'NSE'
"""
# Every instrument of the PEG table, with its fundamentals where it has any (NULL columns otherwise).
_TABLE = """
SELECT s.stock_id, s.symbol, s.company_name, s.sector, f.source, f.as_of, f.period_end, f.shares_outstanding,
    f.eps_ttm, f.eps_growth_yoy_pct, f.eps_cagr_3y_pct, f.book_value_per_share, f.dividend_per_share, f.roe_pct,
    f.debt_to_equity
FROM stocks s JOIN stock_quotes q ON q.stock_id = s.stock_id LEFT JOIN fundamentals f ON f.stock_id = s.stock_id
WHERE s.is_active = 1 AND s.exchange = 'NSE'
ORDER BY s.symbol
"""


def crawl_targets(conn: Any, symbols: Sequence[str] | None = None) -> list[CrawlTarget]:
    """The instruments a crawl covers: these symbols (those that exist), or the whole universe; by symbol."""
    sql, params = _UNIVERSE, []
    if symbols is not None:
        if not symbols:
            return []
        sql += f" AND s.symbol IN ({', '.join(['%s'] * len(symbols))})"
        params = list(symbols)
    rows = fetch_all(conn, sql + " ORDER BY s.symbol", params)
    return [CrawlTarget(**row) for row in rows]


def store(conn: Any, rows: Sequence[tuple[int, Fundamentals]], pause: Pause = None) -> int:
    """Upsert the fundamentals of (stock_id, figures) pairs and replace their quarters; the instruments stored."""
    if not rows:
        return 0
    execute_values(
        conn,
        _UPSERT,
        [
            (
                stock_id,
                f.source,
                to_db(f.as_of),
                f.period_end,
                f.shares_outstanding,
                f.eps_ttm,
                f.eps_growth_yoy_pct,
                f.eps_cagr_3y_pct,
                f.book_value_per_share,
                f.dividend_per_share,
                f.roe_pct,
                f.debt_to_equity,
            )
            for stock_id, f in rows
        ],
        pause,
    )
    ids = [stock_id for stock_id, _ in rows]
    execute(conn, f"DELETE FROM fundamental_quarters WHERE stock_id IN ({', '.join(['%s'] * len(ids))})", ids)
    quarters = [
        (stock_id, q.period_end, q.revenue, q.net_profit, q.eps)
        for stock_id, f in rows
        for q in f.quarters[-QUARTERS_KEPT:]
    ]
    execute_values(conn, _INSERT_QUARTERS, quarters, pause)
    return len(rows)


def table_rows(conn: Any, pause: Pause = None) -> list[dict[str, Any]]:
    """Every instrument of the PEG table with its stored fundamentals (NULL where it has none), by symbol."""
    return fetch_all(conn, _TABLE, (), pause)


def count(conn: Any) -> int:
    """How many stocks have fundamentals."""
    return int(fetch_value(conn, "SELECT COUNT(*) FROM fundamentals"))


def quarters_of(conn: Any, stock_id: int) -> list[dict[str, Any]]:
    """A stock's stored quarters, oldest first."""
    return fetch_all(
        conn,
        "SELECT period_end, revenue, net_profit, eps FROM fundamental_quarters WHERE stock_id = %s ORDER BY period_end",
        (stock_id,),
    )
