"""The app's clock: real UTC time, or a frozen one a test installs with `freeze(app, now)`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app

from utils.timeutil import now_utc


def now() -> datetime:
    """The current time as an aware UTC datetime (the test clock when one is installed)."""
    clock: Callable[[], datetime] | None = current_app.extensions.get("clock")
    return clock() if clock else now_utc()


def freeze(app: Flask, at: datetime | None) -> None:
    """Make `now()` return `at` for this app (None restores the real clock)."""
    if at is None:
        app.extensions.pop("clock", None)
    else:
        app.extensions["clock"] = lambda: at
