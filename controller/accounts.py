"""Paper-trading accounts: one per user, with virtual cash."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from controller.sql import execute

_CREATE = "INSERT INTO accounts (user_id, cash, reserved, starting_cash) VALUES (%s, %s, 0, %s)"


def create_account(conn: Any, user_id: int, starting_cash: Decimal) -> None:
    """Open a user's account with `starting_cash` (no ledger row: the ledger holds movements after the start)."""
    execute(conn, _CREATE, (user_id, starting_cash, starting_cash))
