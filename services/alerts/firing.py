"""Firing alerts: the database picks the one process that fires each crossing, then the alert's paper order goes
through the trading desk like any other (docs/ALERTS.md).

For each alert a tick crossed: `claim` (one conditional UPDATE, and the trigger record with the COMMIT); the
winner places the order with `client_order_id = alert-<alert_id>-<n>`, so a retry or another process asking
again gets the same order back, never a second one; records what happened (the order, or the API error that
refused it); then pushes `alert_triggered` to the owner. A trigger whose order could not be placed for a
passing reason (the database busy, the process gone) stays `pending`, and `retry_pending_actions` places it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from backend import db
from backend.extensions import app_extensions
from controller.alerts import firing, index_source
from controller.alerts.models import Alert, Trigger, client_order_id
from services.alerts.events import publish_alert_triggered
from services.alerts.index import Candidate
from services.alerts.views import alert_objects
from services.market.market_clock import clock
from services.trading import desk
from utils import metrics
from utils.errors import AppError, ServiceUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(seconds=15)


Forget = Callable[[str, str, int], None]  # drops (instrument_type, symbol, alert_id) from the local index


def fire(found: Sequence[Candidate], forget: Forget | None = None) -> list[tuple[Alert, Trigger]]:
    """Fire what the index found where the database agrees. Returns the alerts this process fired with their
    triggers; `forget` is told of the alerts that are no longer active (fired here or elsewhere, deleted with
    their user) so the local index drops them before its next sync."""
    fired, refused = [], []
    for candidate in found:
        try:
            outcome = fire_one(candidate)
        except Exception:  # one alert's failure must not stop the others; its trigger stays pending if it had one
            log.exception("alert %s: firing failed", candidate.alert_id)
            continue
        if outcome is None:
            refused.append(candidate)
        else:
            fired.append(outcome)
            if outcome[0].status != "active" and forget is not None:
                forget(outcome[0].instrument_type, outcome[0].symbol, outcome[0].alert_id)
    if refused and forget is not None:
        with db.connection() as conn:
            active = index_source.still_active(conn, [c.alert_id for c in refused])
        for candidate in refused:
            if candidate.alert_id not in active:
                forget(candidate.instrument_type, candidate.symbol, candidate.alert_id)
    return fired


def fire_one(candidate: Candidate) -> tuple[Alert, Trigger] | None:
    """Fire one alert if the database agrees: its order, its record, its event. None when another process (or
    the alert's state: not active, expired, cooling down, its user blocked or gone) said no."""
    now = clock()
    if (now - candidate.as_of).total_seconds() > app_extensions()["settings"].live_cache_max_age_s:
        metrics.ALERT_CLAIMS.labels("stale").inc()  # a late quote (a feed replay) fires nothing
        return None
    claimed = desk.in_transaction(
        lambda conn: firing.claim(conn, candidate.alert_id, candidate.value, candidate.as_of, candidate.price, now)
    )
    if claimed is None:
        metrics.ALERT_CLAIMS.labels("lost").inc()
        return None
    metrics.ALERT_CLAIMS.labels("won").inc()
    alert, trigger = claimed
    if alert.action is None or place_action(trigger):
        publish_alert_triggered(alert.user_id, alert.to_json(candidate.level, candidate.metric), trigger.to_json())
    return alert, trigger


def place_action(trigger: Trigger) -> bool:
    """Place the pending trigger's order through the trading desk and record the outcome; True when this call
    recorded it (False: still pending, or another attempt recorded it first)."""
    ticket = trigger.action.ticket(trigger.symbol, client_order_id(trigger.alert_id, trigger.seq))
    try:
        order, _ = desk.place_order(trigger.user_id, ticket)
    except ServiceUnavailable as exc:
        if exc.code == ServiceUnavailable.code:  # the database is busy: try again later
            log.warning("alert %s: order not placed yet (%s)", trigger.alert_id, exc.message)
            return False
        return _rejected(trigger, exc)
    except AppError as exc:  # funds, holdings, band, lot, tick...: the trigger says why
        return _rejected(trigger, exc)
    trigger.order_state, trigger.order = "placed", order
    metrics.ALERT_ACTIONS.labels("placed").inc()
    with db.transaction() as conn:
        return firing.record_order(conn, trigger.trigger_id, order.order_id)


def _rejected(trigger: Trigger, exc: AppError) -> bool:
    trigger.order_state, trigger.error_code, trigger.error_message = "rejected", exc.code, exc.message
    metrics.ALERT_ACTIONS.labels("rejected").inc()
    with db.transaction() as conn:
        return firing.record_rejection(conn, trigger.trigger_id, exc.code, exc.message)


def retry_pending_actions(now: datetime | None = None) -> int:
    """Place the orders of triggers left pending for RETRY_AFTER (their process died, or the database was busy);
    push `alert_triggered` for those this call settles. Returns how many it settled."""
    with db.connection() as conn:
        pending = firing.pending_triggers(conn, (now or clock()) - RETRY_AFTER)
    settled = 0
    for trigger in pending:
        if place_action(trigger):
            settled += 1
            with db.connection() as conn:
                alert = firing.alert_by_id(conn, trigger.alert_id)
            if alert is not None:
                publish_alert_triggered(trigger.user_id, alert_objects([alert])[0], trigger.to_json())
    return settled
