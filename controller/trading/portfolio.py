"""Holdings valued at live prices (fresh cache, else the database snapshot) and the equity curve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from controller.sql import defer, defer_rows, execute, fetch_all, fetch_value
from controller.trading.models import (
    Account,
    HoldingCost,
    HoldingsChange,
    Portfolio,
    PriceLookup,
    ValuedHolding,
    account_object,
)
from utils.money import money

_HOLDINGS = """
SELECT s.symbol, s.company_name, h.quantity, h.reserved_quantity, h.avg_price,
       q.ltp, q.prev_close, q.as_of
FROM holdings h
JOIN stocks s ON s.stock_id = h.stock_id
LEFT JOIN stock_quotes q ON q.stock_id = h.stock_id
WHERE h.user_id = %s AND h.quantity > 0
ORDER BY s.symbol
"""
_COSTS = """
SELECT s.symbol, h.quantity, h.avg_price, q.ltp
FROM holdings h
JOIN stocks s ON s.stock_id = h.stock_id
LEFT JOIN stock_quotes q ON q.stock_id = h.stock_id
WHERE h.user_id = %s AND h.quantity > 0
"""


def valued_accounts_insert(table: str, moment_column: str) -> str:
    """`INSERT INTO table (user_id, moment_column, equity, cash, holdings_value)` of every account valued at the
    snapshot table's prices (holdings without a quote at cost); the moment is its one parameter, a rerun
    overwrites. `table` and `moment_column` are names fixed in this package, never input."""
    return f"""
INSERT INTO {table} (user_id, {moment_column}, equity, cash, holdings_value)
SELECT a.user_id, %s, a.cash + COALESCE(v.value, 0), a.cash, COALESCE(v.value, 0)
FROM accounts a
LEFT JOIN (
    SELECT h.user_id, ROUND(SUM(h.quantity * COALESCE(q.ltp, h.avg_price)), 2) AS value
    FROM holdings h LEFT JOIN stock_quotes q ON q.stock_id = h.stock_id
    GROUP BY h.user_id
) v ON v.user_id = a.user_id
ON DUPLICATE KEY UPDATE equity = VALUES(equity), cash = VALUES(cash), holdings_value = VALUES(holdings_value)
"""


_SNAPSHOT_ALL = valued_accounts_insert("portfolio_snapshots", "snapshot_date")  # after the close: closing prices


def valued_holdings(conn: Any, user_id: int, fresh: PriceLookup) -> list[ValuedHolding]:
    """The user's holdings, each priced live when a fresh quote exists, else from the database."""
    result = []
    for row in fetch_all(conn, _HOLDINGS, (user_id,)):
        live = fresh(row["symbol"])
        if live is not None:
            current, prev_close, source, as_of = live.ltp, live.prev_close, "websocket_cache", live.as_of
        elif row["ltp"] is not None:
            current, prev_close, source, as_of = row["ltp"], row["prev_close"], "database", row["as_of"]
        else:
            current, prev_close, source, as_of = row["avg_price"], row["avg_price"], "cost", None
        result.append(
            ValuedHolding(
                row["symbol"],
                row["company_name"],
                row["quantity"],
                row["reserved_quantity"],
                row["avg_price"],
                current,
                prev_close,
                source,
                as_of,
            )
        )
    return result


def portfolio(conn: Any, account: Account, fresh: PriceLookup) -> Portfolio:
    """The account with its valued holdings."""
    return Portfolio(account, valued_holdings(conn, account.user_id, fresh))


def holding_costs(
    conn: Any, account: Account, change: HoldingsChange | None, use: Callable[[Sequence[HoldingCost]], None]
) -> None:
    """The costs of the account's holdings for `account_json`, read in the open transaction with its next
    statement (a HoldingCostLookup that always queries)."""
    defer_rows(
        conn,
        _COSTS,
        (account.user_id,),
        lambda rows: use(
            tuple(HoldingCost(row["symbol"], row["quantity"], row["avg_price"], row["ltp"]) for row in rows)
        ),
    )


def account_json(account: Account, costs: Sequence[HoldingCost], fresh: PriceLookup) -> dict[str, Any]:
    """The account object valued like `portfolio(...).account_json()`, from the holdings' costs."""
    value = invested = Decimal(0)
    for cost in costs:
        live = fresh(cost.symbol)
        current = live.ltp if live is not None else cost.avg_price if cost.db_price is None else cost.db_price
        value += money(current * cost.quantity)
        invested += money(cost.avg_price * cost.quantity)
    return account_object(account, value, invested)


def snapshot_all(conn: Any, day: date) -> int:
    """Record every account's equity for `day` (a rerun overwrites); return how many accounts `day` covers."""
    execute(conn, _SNAPSHOT_ALL, (day,))
    return int(fetch_value(conn, "SELECT COUNT(*) FROM portfolio_snapshots WHERE snapshot_date = %s", (day,)))


def delete_history(conn: Any, user_id: int) -> None:
    """Forget the user's equity curve: daily closes and intraday points (account reset)."""
    execute(conn, "DELETE FROM portfolio_snapshots WHERE user_id = %s", (user_id,))
    defer(conn, "DELETE FROM equity_points WHERE user_id = %s", (user_id,))  # travels with the next statement
