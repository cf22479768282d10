"""One object per distinct value, for values repeated across thousands of rows and structures (tick sizes; exchange,
sector, instrument type names and symbols): a row decoded from the database holds its own copy of each otherwise.
Strings are interned (freed when nothing uses them); a Decimal is kept for the life of the process, so only Decimals
of a few distinct values (tick sizes) come here."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T", str, Decimal)
_DECIMALS: dict[tuple, Decimal] = {}


def shared(value: T) -> T:
    """The one kept object equal to `value` (a Decimal's exponent included: 0.05 and 0.050 are two values)."""
    if isinstance(value, str):
        return sys.intern(value)
    return _DECIMALS.setdefault(value.as_tuple(), value)
