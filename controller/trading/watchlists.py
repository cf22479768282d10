"""Named watchlists per user with ordered items, each item quoted live (fresh cache) or from the database."""

from __future__ import annotations

from typing import Any

from mysql.connector.errors import IntegrityError

from controller.sql import execute, execute_many, fetch_all, fetch_sets, fetch_value
from controller.trading.models import PriceLookup
from utils.errors import Conflict, NotFound
from utils.money import number, percent
from utils.timeutil import iso_ist
from utils.trading_errors import RuleViolation

_DUPLICATE_KEY = 1062
_LISTS = (
    "SELECT w.watchlist_id, w.name, w.position, w.created_at FROM watchlists w WHERE w.user_id = %s {only} "
    "ORDER BY w.position, w.watchlist_id"
)
_ITEMS = """
SELECT i.watchlist_id, s.symbol, s.company_name, s.exchange, i.position,
       q.ltp, q.prev_close, q.day_open, q.day_high, q.day_low, q.volume, q.as_of
FROM watchlists w
JOIN watchlist_items i ON i.watchlist_id = w.watchlist_id
JOIN stocks s ON s.stock_id = i.stock_id
LEFT JOIN stock_quotes q ON q.stock_id = i.stock_id
WHERE w.user_id = %s {only}
ORDER BY i.position, s.symbol
"""
# Every write to a user's lists first locks the user's row: one user's list changes run one at a time, so the
# list limit and the positions hold and they cannot deadlock each other (an INSERT ... SELECT MAX(position)
# without it failed under bursts with MariaDB error 1467); other users' lists are not held up.
_LOCK_USER = "SELECT user_id FROM users WHERE user_id = %s FOR UPDATE"
_LISTS_SO_FAR = (
    "SELECT COUNT(*) AS lists, COALESCE(MAX(position) + 1, 0) AS next_position FROM watchlists WHERE user_id = %s"
)
_OWNED = "SELECT watchlist_id FROM watchlists WHERE watchlist_id = %s AND user_id = %s"
_STOCK = "SELECT stock_id FROM stocks WHERE symbol = %s ORDER BY exchange = 'NSE' DESC LIMIT 1"
_ITEM_SYMBOLS = (
    "SELECT s.symbol, i.stock_id, i.position FROM watchlist_items i JOIN stocks s ON s.stock_id = i.stock_id "
    "WHERE i.watchlist_id = %s"
)
_SET_POSITIONS = (
    "INSERT INTO watchlist_items (watchlist_id, stock_id, position) VALUES (%s, %s, %s) "
    "ON DUPLICATE KEY UPDATE position = VALUES(position)"
)
_QUOTE_FIELDS = ("ltp", "prev_close", "day_open", "day_high", "day_low", "volume", "as_of")


def _item_json(row: dict[str, Any], fresh: PriceLookup) -> dict[str, Any]:
    live = fresh(row["symbol"])
    source = "websocket_cache" if live is not None else ("database" if row["ltp"] is not None else "none")
    q = {name: getattr(live, name) for name in _QUOTE_FIELDS} if live is not None else row
    change = q["ltp"] - q["prev_close"] if q["ltp"] is not None else None
    return {
        "symbol": row["symbol"],
        "company_name": row["company_name"],
        "exchange": row["exchange"],
        "position": row["position"],
        "ltp": number(q["ltp"], 4),
        "prev_close": number(q["prev_close"], 4),
        "change": number(change, 4),
        "change_pct": number(percent(change, q["prev_close"])) if change is not None else None,
        "day_open": number(q["day_open"], 4),
        "day_high": number(q["day_high"], 4),
        "day_low": number(q["day_low"], 4),
        "volume": q["volume"],
        "as_of": iso_ist(q["as_of"]),
        "price_source": source,
    }


def list_watchlists(conn: Any, user_id: int, fresh: PriceLookup, watchlist_id: int | None = None) -> list[dict]:
    """Every list of the user (or just `watchlist_id`) with its quoted items; empty lists included."""
    only, params = ("AND w.watchlist_id = %s", (user_id, watchlist_id)) if watchlist_id else ("", (user_id,))
    lists = fetch_all(conn, _LISTS.format(only=only), params)
    items: dict[int, list[dict]] = {row["watchlist_id"]: [] for row in lists}
    for row in fetch_all(conn, _ITEMS.format(only=only), params):
        items[row["watchlist_id"]].append(_item_json(row, fresh))
    return [
        {
            "watchlist_id": row["watchlist_id"],
            "name": row["name"],
            "position": row["position"],
            "created_at": iso_ist(row["created_at"]),
            "count": len(items[row["watchlist_id"]]),
            "items": items[row["watchlist_id"]],
        }
        for row in lists
    ]


def get_watchlist(conn: Any, user_id: int, watchlist_id: int, fresh: PriceLookup) -> dict:
    """One of the user's lists with its quoted items; NotFound for others' lists."""
    found = list_watchlists(conn, user_id, fresh, watchlist_id)
    if not found:
        raise NotFound(f"watchlist {watchlist_id} not found")
    return found[0]


def _lock_user(conn: Any, user_id: int, then: list[tuple[str, tuple]]) -> list[list[dict[str, Any]]]:
    """Lock the user's row, then run `then` in the same round trip (after the lock); each one's rows."""
    user, *results = fetch_sets(conn, [(_LOCK_USER, (user_id,)), *then])
    if not user:
        raise NotFound("user not found")
    return results


def _lock_owned(conn: Any, user_id: int, watchlist_id: int) -> None:
    (owned,) = _lock_user(conn, user_id, [(_OWNED, (watchlist_id, user_id))])
    if not owned:
        raise NotFound(f"watchlist {watchlist_id} not found")


def _unique(conn: Any, sql: str, params: tuple, message: str) -> int:
    try:
        return execute(conn, sql, params)[1]
    except IntegrityError as exc:
        if exc.errno == _DUPLICATE_KEY:
            raise Conflict(message) from None
        raise


def create_watchlist(conn: Any, user_id: int, name: str, max_lists: int) -> int:
    """Create a list at the end of the user's lists; Conflict for a duplicate name or too many lists."""
    ((so_far,),) = _lock_user(conn, user_id, [(_LISTS_SO_FAR, (user_id,))])
    if so_far["lists"] >= max_lists:
        raise Conflict(f"at most {max_lists} watchlists per user")
    return _unique(
        conn,
        "INSERT INTO watchlists (user_id, name, position) VALUES (%s, %s, %s)",
        (user_id, name, so_far["next_position"]),
        f"a watchlist named {name!r} already exists",
    )


def update_watchlist(conn: Any, user_id: int, watchlist_id: int, name: str | None, position: int | None) -> None:
    """Rename and/or move a list; NotFound for others' lists, Conflict for a duplicate name."""
    _lock_owned(conn, user_id, watchlist_id)
    if name is not None:
        _unique(
            conn,
            "UPDATE watchlists SET name = %s WHERE watchlist_id = %s",
            (name, watchlist_id),
            f"a watchlist named {name!r} already exists",
        )
    if position is not None:
        execute(conn, "UPDATE watchlists SET position = %s WHERE watchlist_id = %s", (position, watchlist_id))


def delete_watchlist(conn: Any, user_id: int, watchlist_id: int) -> None:
    """Delete a list and its items; NotFound for others' lists."""
    _lock_owned(conn, user_id, watchlist_id)
    execute(conn, "DELETE FROM watchlists WHERE watchlist_id = %s", (watchlist_id,))


def add_item(conn: Any, user_id: int, watchlist_id: int, symbol: str, max_items: int) -> None:
    """Append a symbol; NotFound for others' lists, Conflict when already listed or the list is full."""
    _lock_owned(conn, user_id, watchlist_id)
    stock_id = fetch_value(conn, _STOCK, (symbol,))
    if stock_id is None:
        raise NotFound(f"unknown symbol {symbol}")
    listed = fetch_all(conn, _ITEM_SYMBOLS, (watchlist_id,))
    if any(row["stock_id"] == stock_id for row in listed):
        raise Conflict(f"{symbol} is already in this watchlist")
    if len(listed) >= max_items:
        raise Conflict(f"at most {max_items} symbols per watchlist")
    position = max((row["position"] for row in listed), default=-1) + 1
    execute(
        conn,
        "INSERT INTO watchlist_items (watchlist_id, stock_id, position) VALUES (%s, %s, %s)",
        (watchlist_id, stock_id, position),
    )


def remove_item(conn: Any, user_id: int, watchlist_id: int, symbol: str) -> None:
    """Remove a symbol; NotFound for others' lists or a symbol not in the list."""
    _lock_owned(conn, user_id, watchlist_id)
    stock_ids = [row["stock_id"] for row in fetch_all(conn, _ITEM_SYMBOLS, (watchlist_id,)) if row["symbol"] == symbol]
    if not stock_ids:
        raise NotFound(f"{symbol} is not in watchlist {watchlist_id}")
    execute(conn, "DELETE FROM watchlist_items WHERE watchlist_id = %s AND stock_id = %s", (watchlist_id, stock_ids[0]))


def reorder_items(conn: Any, user_id: int, watchlist_id: int, symbols: list[str]) -> None:
    """Put the list's items in the order of `symbols`, which must name each item exactly once."""
    _lock_owned(conn, user_id, watchlist_id)
    listed = {row["symbol"]: row["stock_id"] for row in fetch_all(conn, _ITEM_SYMBOLS, (watchlist_id,))}
    if len(symbols) != len(set(symbols)) or set(symbols) != set(listed):
        raise RuleViolation(
            "symbols must list every item of the watchlist exactly once",
            "permutation",
            "symbols",
            missing=sorted(set(listed) - set(symbols)),
            unknown=sorted(set(symbols) - set(listed)),
        )
    execute_many(conn, _SET_POSITIONS, [(watchlist_id, listed[s], i) for i, s in enumerate(symbols)])
