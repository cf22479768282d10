"""The money invariants of paper trading, checked over every account (tests, benchmarks, operators)."""

from __future__ import annotations

from typing import Any

from controller.sql import fetch_all

_WORKING = "status IN ('OPEN', 'TRIGGER_PENDING')"
# Each query returns one row per violation with a `problem` text.
_CHECKS = {
    "balances": """
        SELECT user_id, CONCAT('cash ', cash, ' reserved ', reserved) AS problem FROM accounts
        WHERE cash < 0 OR reserved < 0 OR reserved > cash""",
    "ledger": """
        SELECT a.user_id, CONCAT('cash ', a.cash, ' != starting ', a.starting_cash, ' + ledger ',
                                 COALESCE(l.total, 0)) AS problem
        FROM accounts a LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger GROUP BY user_id) l
          ON l.user_id = a.user_id
        WHERE a.cash <> a.starting_cash + COALESCE(l.total, 0)""",
    "reserved_cash": f"""
        SELECT a.user_id, CONCAT('reserved ', a.reserved, ' != open buys ', COALESCE(o.total, 0)) AS problem
        FROM accounts a LEFT JOIN (SELECT user_id, SUM(reserved_amount) AS total FROM orders
                                   WHERE side = 'BUY' AND {_WORKING} GROUP BY user_id) o ON o.user_id = a.user_id
        WHERE a.reserved <> COALESCE(o.total, 0)""",
    "reserved_shares": f"""
        SELECT COALESCE(h.user_id, o.user_id) AS user_id,
               CONCAT('stock ', COALESCE(h.stock_id, o.stock_id), ' holds ', COALESCE(h.quantity, 0),
                      ' reserved ', COALESCE(h.reserved_quantity, 0), ' open sells ', COALESCE(o.qty, 0)) AS problem
        FROM holdings h
        LEFT JOIN (SELECT user_id, stock_id, SUM(quantity) AS qty FROM orders WHERE side = 'SELL' AND {_WORKING}
                   GROUP BY user_id, stock_id) o ON o.user_id = h.user_id AND o.stock_id = h.stock_id
        WHERE h.quantity <= 0 OR h.reserved_quantity > h.quantity OR h.reserved_quantity <> COALESCE(o.qty, 0)
        UNION ALL
        SELECT o.user_id, CONCAT('open sell ', o.order_id, ' without a holding') AS problem FROM orders o
        WHERE o.side = 'SELL' AND o.{_WORKING} AND NOT EXISTS (
            SELECT 1 FROM holdings h WHERE h.user_id = o.user_id AND h.stock_id = o.stock_id)""",
    "fills": """
        SELECT o.user_id, CONCAT('order ', o.order_id, ' ', o.status, ' with ', COUNT(t.trade_id), ' trades')
               AS problem
        FROM orders o LEFT JOIN trades t ON t.order_id = o.order_id
        GROUP BY o.order_id, o.user_id, o.status
        HAVING COUNT(t.trade_id) > 1 OR (o.status = 'COMPLETE') <> (COUNT(t.trade_id) = 1)""",
    "fill_cash": """
        SELECT t.user_id, CONCAT('trade ', t.trade_id, ' has ', COUNT(l.entry_id), ' ledger rows') AS problem
        FROM trades t LEFT JOIN ledger l ON l.trade_id = t.trade_id
        GROUP BY t.trade_id, t.user_id HAVING COUNT(l.entry_id) <> 1""",
}


def audit(conn: Any) -> list[dict[str, Any]]:
    """Every violated invariant as {check, user_id, problem}; an empty list means the books are sound."""
    found = []
    for check, sql in _CHECKS.items():
        found += [{"check": check, **row} for row in fetch_all(conn, sql)]
    return found
