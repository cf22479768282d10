"""Private trading events, pushed to the room `user:<id>` after the transaction that caused them commits."""

from __future__ import annotations

from typing import Any

from backend.extensions import socketio
from controller.trading.models import Outcome
from services.realtime.websocket_manager import user_room


def publish_order_update(user_id: int, order: dict[str, Any]) -> None:
    """Push an order object (docs/API.md) to its owner."""
    socketio.emit("order_update", order, to=user_room(user_id))


def publish_trade(user_id: int, trade: dict[str, Any]) -> None:
    """Push a fill to its owner."""
    socketio.emit("trade", trade, to=user_room(user_id))


def publish_account_update(user_id: int, account: dict[str, Any]) -> None:
    """Push the account object (docs/API.md) to its owner."""
    socketio.emit("account_update", account, to=user_room(user_id))


def publish_outcome(outcome: Outcome | None) -> None:
    """Push everything one committed transaction changed: orders, then fills, then the account."""
    if outcome is None:
        return
    for order in outcome.orders.values():
        publish_order_update(outcome.user_id, order.to_json())
    for trade in outcome.trades:
        publish_trade(outcome.user_id, trade.to_json())
    if outcome.account is not None:
        publish_account_update(outcome.user_id, outcome.account)
