"""The alert jobs: the index's sync in every process; expiry, instruments gone from the universe and pending
orders in the writer (leader) process."""

from __future__ import annotations

import logging

from backend import db
from backend.settings import Settings
from controller.alerts import index_source
from services.alerts.engine import AlertEngine
from services.alerts.firing import retry_pending_actions
from services.market.market_clock import clock
from services.platform.scheduler import Job
from services.trading.desk import in_transaction

log = logging.getLogger(__name__)


def expire_alerts() -> int:
    """Mark active alerts past their expiry as expired (the indexes drop them at their next sync); how many."""
    now = clock()
    return len(in_transaction(lambda conn: index_source.expire_alerts(conn, now)))


def disable_lost_instruments() -> int:
    """Disable the active alerts of instruments no longer in the universe, saying why; how many."""
    now = clock()
    with db.connection() as conn:
        lost = index_source.lost_instruments(conn)
    disabled = 0
    for instrument_type, symbol in lost:
        reason = f"{symbol} is no longer in the instrument universe"
        disabled += in_transaction(
            lambda conn, t=instrument_type, s=symbol, r=reason: index_source.disable_for_instrument(conn, t, s, r, now)
        )
        log.info("alerts on %s %s disabled: it left the universe", instrument_type, symbol)
    return disabled


def sync_job(settings: Settings, engine: AlertEngine) -> Job:
    """Every process keeps its index in step with the database."""
    return Job("alerts_sync", settings.alerts_sync_interval_s, engine.sync)


def writer_jobs() -> list[Job]:
    """The shared alert writers, run by the leader only."""
    return [
        Job("alerts_expire", 30.0, expire_alerts),
        Job("alerts_lost_instruments", 300.0, disable_lost_instruments),
        Job("alerts_retry_actions", 15.0, retry_pending_actions),
    ]
