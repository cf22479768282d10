"""The leader's report on its market-data feed, as every process reads it, and the exchange's own word on the
session that comes with it.

The leader (services/realtime/upstox_stream.py) writes one row, `market_feed_state`: its feed's mode
("streaming", "polling", "down") and reason, and the latest NSE_EQ segment status the exchange gave
(`marketInfo.segmentStatus` on the feed, or REST's market status while polling) for its IST day. Every process
reads the row at most every READ_EVERY_S; a row not refreshed for REPORT_FRESH_S is a gone leader's and says
nothing. The market phase follows the exchange's word for that day over the calendar (market_clock).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from mysql.connector import Error as MySQLError

from backend import db
from backend.extensions import app_extensions
from controller.platform import feed_state
from utils.errors import ServiceUnavailable
from utils.timeutil import IST, as_utc, now_utc

log = logging.getLogger(__name__)
READ_EVERY_S = 2.0
REPORT_FRESH_S = 60.0
PROVIDER = "upstox"
# Upstox segment statuses -> our phases: pre-open (09:00-09:08) and its order matching up to 09:15 are
# "pre_open", the continuous session "open", the closing session and after it "closed".
_PHASES = {"NORMAL_OPEN": "open", "PRE_OPEN_START": "pre_open", "PRE_OPEN_END": "pre_open"}


def phase_of(exchange_status: str) -> str:
    """Our phase ("pre_open", "open", "closed") for an Upstox segment status such as NORMAL_OPEN."""
    return _PHASES.get(exchange_status, "closed")


def latest_report() -> dict[str, Any] | None:
    """The leader's latest report while it is fresh (read at most every READ_EVERY_S), else None."""
    memo = app_extensions().get("feed_report_memo")
    if memo is None or time.monotonic() - memo[0] >= READ_EVERY_S:
        try:
            with db.connection() as conn:
                row = feed_state.load(conn, PROVIDER)
        except (ServiceUnavailable, MySQLError) as exc:  # keep what was known; the pool logs the outage
            log.debug("feed report not read (%s)", exc.__class__.__name__)
            row = memo[1] if memo else None
        memo = app_extensions()["feed_report_memo"] = (time.monotonic(), row)
    row = memo[1]
    if row is None or (now_utc() - as_utc(row["updated_at"])).total_seconds() > REPORT_FRESH_S:
        return None
    return row


def exchange_phase(now: datetime) -> str | None:
    """The exchange's phase for `now`'s IST day when the leader reported one for that day, else None."""
    if app_extensions()["settings"].market_data_provider != PROVIDER:
        return None
    report = latest_report()
    if report is None or not report["exchange_status"] or report["status_day"] != now.astimezone(IST).date():
        return None
    return phase_of(report["exchange_status"])
