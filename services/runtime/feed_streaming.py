"""The Upstox leg of the background half: what the feed streams, and the feed connection itself while this
process leads.

Every process: its clients' subscribed symbols are published to the shared registry (with REDIS_URL,
services/realtime/subscription_registry.py), so the leader streams what clients on any process watch.
The leader: the feed connection (services/realtime/upstox_stream.py), started on election, registered with
the shutdown sequence in its first stage (the upstream connection closes before anything else), closed
first when leadership ends. Stream sources (services/realtime/stream_targets.py): the indices, the clients'
symbols, working orders' instruments, active alerts' instruments, the movers' candidates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from backend import db
from controller.trading import order_queries
from services.alerts.engine import AlertEngine
from services.market import exchange_session
from services.platform.scheduler import Job
from services.realtime.stream_targets import register_default_sources, stream_targets
from services.realtime.subscription_registry import SubscriptionRegistry
from services.realtime.upstox_stream import UpstoxStream
from services.realtime.websocket_manager import process_subscriptions
from services.runtime import shutdown

log = logging.getLogger(__name__)
OPEN_ORDERS_EVERY_S = 10.0
FEED_STEP = "upstox feed"


class OpenOrderSymbols:
    """The instruments of working orders, re-read at most every OPEN_ORDERS_EVERY_S (a stream source)."""

    def __init__(self) -> None:
        self._at = -OPEN_ORDERS_EVERY_S
        self._symbols: list[str] = []

    def __call__(self) -> list[str]:
        """The symbols (read in the caller's app context)."""
        if time.monotonic() - self._at >= OPEN_ORDERS_EVERY_S:
            with db.connection() as conn:
                self._symbols = order_queries.working_symbols(conn)
            self._at = time.monotonic()
        return self._symbols


def all_subscriptions(registry: SubscriptionRegistry) -> Callable[[], Iterable[str]]:
    """The `client_subscriptions` stream source with a shared registry: every live process's symbols."""

    def symbols() -> set[str]:
        return registry.all_symbols() | process_subscriptions()  # this process's own, fresher than published

    return symbols


class FeedStreaming:
    """The Upstox feed of one app: its stream sources and subscription publishing everywhere, the connection in
    the leader. Does nothing with another provider."""

    def __init__(self, app: Flask, alerts: AlertEngine) -> None:
        self.app = app
        settings = app.extensions["settings"]
        self.enabled = settings.market_data_provider == "upstox"
        self.stream: UpstoxStream | None = None
        self.targets = stream_targets(app)
        self.registry: SubscriptionRegistry | None = None
        self.interval_s = settings.upstox_feed_targets_interval_s
        if not self.enabled:
            return
        register_default_sources(self.targets, app)
        if settings.redis_url:
            self.registry = SubscriptionRegistry(settings.redis_url.get_secret_value(), self.interval_s)
            self.targets.register("client_subscriptions", all_subscriptions(self.registry), "full", 10)
        self.targets.register("open_orders", OpenOrderSymbols(), "ltpc", 20)
        self.targets.register("alerts", alerts.streamed_stocks, "ltpc", 30)
        self.targets.register("alert_volumes", alerts.streamed_volumes, "full", 30)

    def every_process_jobs(self) -> list[Job]:
        """Publishing this process's clients' symbols for the leader (with Redis)."""
        if self.registry is None:
            return []
        return [Job("publish_subscriptions", self.interval_s, self.registry.publish)]

    def start_leading(self) -> Any:
        """Elected: connect the feed; return its jobs for the writer's scheduler (None without Upstox)."""
        if not self.enabled:
            return None
        provider = self.app.extensions["market_data_provider"]
        self.stream = UpstoxStream(self.app, provider, self.targets, self.app.extensions["provider_tokens"])
        self.stream.start()
        shutdown.register(FEED_STEP, shutdown.INTAKE, self.stream.stop)
        return self.stream.jobs()

    def stop_leading(self) -> None:
        """Deposed or stopping: close the feed connection (first, before the writers stop)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            shutdown.unregister(FEED_STEP)
            stream.stop()

    def stop(self) -> None:
        """This process stops: its clients' symbols leave the shared registry."""
        if self.registry is not None:
            try:
                self.registry.withdraw()
            except Exception:  # Redis gone: the set expires by itself
                log.warning("could not withdraw this process's subscriptions from Redis", exc_info=True)
            self.registry.close()

    def mode(self) -> dict[str, Any]:
        """The feed's state: this leader's stream, the leader's report (other processes), or the simulator."""
        if not self.enabled:
            return {"mode": "polling", "reason": "simulator"}
        if self.stream is not None:
            return self.stream.state()
        report = exchange_session.latest_report()
        if report is None:
            return {"mode": "down", "reason": "no_leader_report"}
        return {"mode": report["mode"], "reason": report["reason"]}
