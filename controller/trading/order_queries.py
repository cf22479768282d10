"""Reading orders and trades: the user's pages and exports, and the scans of the matcher and jobs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from controller.sql import fetch_all
from controller.trading.models import ORDER_COLUMNS, Order, Trade
from utils.timeutil import to_db

_WORKING = "status IN ('OPEN', 'TRIGGER_PENDING')"
_TRADE_COLUMNS = "trade_id, order_id, user_id, symbol, side, quantity, price, executed_at"


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Filters and keyset position of a page of orders or trades (newest first)."""

    statuses: tuple[str, ...] = ()
    symbol: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def _where(user_id: int, query: PageQuery, id_col: str, time_col: str) -> tuple[str, list[Any]]:
    clauses, params = ["user_id = %s"], [user_id]
    if query.statuses:
        clauses.append(f"status IN ({', '.join(['%s'] * len(query.statuses))})")
        params += query.statuses
    if query.symbol:
        clauses.append("symbol = %s")
        params.append(query.symbol)
    if query.since:
        clauses.append(f"{time_col} >= %s")
        params.append(to_db(query.since))
    if query.until:
        clauses.append(f"{time_col} < %s")
        params.append(to_db(query.until))
    if query.before_id:
        clauses.append(f"{id_col} < %s")
        params.append(query.before_id)
    return " AND ".join(clauses), params


def list_orders(conn: Any, user_id: int, query: PageQuery) -> list[Order]:
    """The user's orders matching `query`, newest first, at most `query.limit`."""
    where, params = _where(user_id, query, "order_id", "created_at")
    rows = fetch_all(
        conn,
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE {where} ORDER BY order_id DESC LIMIT %s",
        [*params, query.limit],
    )
    return [Order.from_row(row) for row in rows]


def list_trades(conn: Any, user_id: int, query: PageQuery) -> list[Trade]:
    """The user's fills matching `query` (statuses ignored), newest first."""
    where, params = _where(
        user_id,
        PageQuery(symbol=query.symbol, since=query.since, until=query.until, before_id=query.before_id),
        "trade_id",
        "executed_at",
    )
    rows = fetch_all(
        conn,
        f"SELECT {_TRADE_COLUMNS} FROM trades WHERE {where} ORDER BY trade_id DESC LIMIT %s",
        [*params, query.limit],
    )
    return [Trade.from_row(row) for row in rows]


# The working orders a price may act on, priced from a JSON list of [symbol, ltp] (MySQL 8 and MariaDB 10.6+
# have JSON_TABLE). The conditions are order_rules.may_act's, so the matcher reads the few orders a tick
# reaches, not every resting order on every tick; may_act still decides. Orders of users who are not active
# never execute (blocking cancels them; this covers one placed while another process still trusted the user).
_O_COLUMNS = ", ".join(f"o.{c.strip()}" for c in ORDER_COLUMNS.split(","))
_ACTIVE_OWNER = "JOIN users u ON u.user_id = o.user_id AND u.status = 'active'"
_REACHABLE = f"""
SELECT {_O_COLUMNS}
FROM orders o
JOIN JSON_TABLE(%s, '$[*]' COLUMNS (symbol VARCHAR(32) PATH '$[0]', ltp DECIMAL(14,4) PATH '$[1]')) p
  ON o.symbol = p.symbol COLLATE utf8mb4_unicode_ci
{_ACTIVE_OWNER}
WHERE o.status IN ('OPEN', 'TRIGGER_PENDING') AND (
  (o.status = 'TRIGGER_PENDING' AND ((o.side = 'BUY' AND p.ltp >= o.trigger_price)
                                     OR (o.side = 'SELL' AND p.ltp <= o.trigger_price)))
  OR (o.status = 'OPEN' AND (o.validity = 'IOC' OR o.order_type IN ('MARKET', 'SL-M')
                             OR (o.side = 'BUY' AND p.ltp <= o.price) OR (o.side = 'SELL' AND p.ltp >= o.price))))
ORDER BY o.order_id
"""


def reachable_orders(conn: Any, prices: dict[str, Decimal]) -> list[tuple[Order, Decimal]]:
    """The working orders that these last traded prices (symbol → ltp) may trigger, fill or cancel, with the
    price that reaches each; oldest order first."""
    if not prices:
        return []
    listed = json.dumps([[symbol, str(ltp)] for symbol, ltp in prices.items()])
    return [(order, prices[order.symbol]) for order in map(Order.from_row, fetch_all(conn, _REACHABLE, (listed,)))]


def working_symbols(conn: Any) -> list[str]:
    """The symbols of every working order (the leader streams their prices)."""
    return [row["symbol"] for row in fetch_all(conn, f"SELECT DISTINCT symbol FROM orders WHERE {_WORKING}")]


def working_amo_orders(conn: Any) -> list[Order]:
    """Working orders of active users that were placed while the market was closed."""
    rows = fetch_all(
        conn,
        f"SELECT {_O_COLUMNS} FROM orders o {_ACTIVE_OWNER} WHERE o.{_WORKING} AND o.is_amo = 1 ORDER BY o.order_id",
    )
    return [Order.from_row(row) for row in rows]


def working_orders_created_before(conn: Any, cutoff: datetime) -> dict[int, list[int]]:
    """user_id → ids of working orders created before `cutoff` (the DAY orders of a closed session)."""
    rows = fetch_all(
        conn,
        f"SELECT order_id, user_id FROM orders WHERE {_WORKING} AND created_at < %s ORDER BY order_id",
        (to_db(cutoff),),
    )
    result: dict[int, list[int]] = {}
    for row in rows:
        result.setdefault(row["user_id"], []).append(row["order_id"])
    return result
