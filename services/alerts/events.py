"""The private `alert_triggered` event, pushed to the room `user:<id>` after the trigger is committed."""

from __future__ import annotations

from typing import Any

from backend.extensions import socketio
from services.trading.events import user_room


def publish_alert_triggered(user_id: int, alert: dict[str, Any], trigger: dict[str, Any]) -> None:
    """Push `{alert, trigger}` (the API's alert and trigger objects) to the alert's owner."""
    socketio.emit("alert_triggered", {"alert": alert, "trigger": trigger}, to=user_room(user_id))
