"""The market session an administrator chose at run time ('exchange' or 'simulated'): one row every process reads."""

from __future__ import annotations

from typing import Any, Literal

from controller.sql import execute, fetch_value

SessionMode = Literal["exchange", "simulated"]
_SAVE = """
INSERT INTO market_session (id, mode, updated_by) VALUES (1, %s, %s)
ON DUPLICATE KEY UPDATE mode = VALUES(mode), updated_by = VALUES(updated_by)
"""


def stored_mode(conn: Any) -> SessionMode | None:
    """The chosen mode, or None when nobody chose one (the settings' default applies)."""
    return fetch_value(conn, "SELECT mode FROM market_session WHERE id = 1")


def save_mode(conn: Any, mode: SessionMode, user_id: int | None) -> None:
    """Record `mode` as the session every process follows (`user_id`: the administrator who chose it)."""
    execute(conn, _SAVE, (mode, user_id))
