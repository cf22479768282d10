"""The user's triggers, newest first, with the orders their alerts placed; unread counts and marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controller.alerts.alerts import page_filter
from controller.alerts.firing import trigger_columns, trigger_from_row
from controller.alerts.models import Trigger
from controller.sql import execute, fetch_all, fetch_value
from controller.trading.models import ORDER_COLUMNS, Order
from utils.timeutil import to_db

_ORDER_COLUMNS = ", ".join(f"o.{column.strip()} AS o_{column.strip()}" for column in ORDER_COLUMNS.split(","))
_ORDER_NAMES = [column.strip() for column in ORDER_COLUMNS.split(",")]


def _with_order(row: dict[str, Any]) -> Trigger:
    trigger = trigger_from_row(row)
    trigger.note = row["note"]
    if row["o_order_id"] is not None:
        trigger.order = Order.from_row({name: row[f"o_{name}"] for name in _ORDER_NAMES})
    return trigger


def list_triggers(
    conn: Any, user_id: int, before_id: int | None, limit: int, symbol: str | None = None
) -> list[Trigger]:
    """The user's triggers, newest first, each with its order as it is now (None without one)."""
    extra, params = page_filter("t.", "trigger_id", symbol, before_id)
    rows = fetch_all(
        conn,
        f"SELECT {trigger_columns('t.')}, a.note, {_ORDER_COLUMNS} FROM alert_triggers t "
        "JOIN alerts a ON a.alert_id = t.alert_id LEFT JOIN orders o ON o.order_id = t.order_id "
        f"WHERE t.user_id = %s{extra} ORDER BY t.trigger_id DESC LIMIT %s",
        [user_id, *params, limit],
    )
    return [_with_order(row) for row in rows]


def unread_count(conn: Any, user_id: int) -> int:
    """How many of the user's triggers are unread."""
    return int(
        fetch_value(conn, "SELECT COUNT(*) AS n FROM alert_triggers WHERE user_id = %s AND read_at IS NULL", (user_id,))
    )


def mark_read(conn: Any, user_id: int, up_to_trigger_id: int, now: datetime) -> int:
    """Mark the user's unread triggers up to this id (included) as read; how many."""
    changed, _ = execute(
        conn,
        "UPDATE alert_triggers SET read_at = %s WHERE user_id = %s AND trigger_id <= %s AND read_at IS NULL",
        (to_db(now), user_id, up_to_trigger_id),
    )
    return changed
