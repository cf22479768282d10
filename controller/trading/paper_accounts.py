"""Paper accounts: creation and plain reads (locked changes go through AccountBook)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from controller.sql import execute, fetch_one
from controller.trading.models import Account

_CREATE = "INSERT INTO accounts (user_id, cash, reserved, starting_cash) VALUES (%s, %s, 0, %s)"
# Lazily, for users created before trading existed: only when the user row is there, never twice.
_ENSURE = (
    "INSERT IGNORE INTO accounts (user_id, cash, reserved, starting_cash) "
    "SELECT user_id, %s, 0, %s FROM users WHERE user_id = %s"
)
_GET = "SELECT user_id, cash, reserved, starting_cash, realized_pnl FROM accounts WHERE user_id = %s"


def create_account(conn: Any, user_id: int, starting_cash: Decimal) -> None:
    """Open the account of a new user: cash = starting_cash, nothing reserved, no ledger row."""
    execute(conn, _CREATE, (user_id, starting_cash, starting_cash))


def ensure_account(conn: Any, user_id: int, starting_cash: Decimal) -> None:
    """Create the user's account if it is missing (a no-op for unknown users)."""
    execute(conn, _ENSURE, (starting_cash, starting_cash, user_id))


def get_account(conn: Any, user_id: int) -> Account | None:
    """The account row, unlocked."""
    row = fetch_one(conn, _GET, (user_id,))
    return Account(**row) if row else None
