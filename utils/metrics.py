"""Prometheus metric objects, defined once per process (a leaf module; everyone may import it)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector


class _CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class _HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket, then above the last bound
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect_left(self.bounds, amount)] += 1  # the first bucket whose bound is >= amount
        self.sum += amount


class _Unlocked(Collector):
    """Labelled children kept in a dict, created on first use, exposed when scraped.

    For the metrics of every request (HTTP, named caches): prometheus_client's children take a lock per update, a
    gevent lock once the worker is patched, ~1.5 µs each, several per request (docs/BENCHMARKS.md, framework
    overhead). Requests are served by one OS thread (the gevent and eventlet workers), which a greenlet switch
    cannot interrupt inside an update, so the counts are exact there; a threaded server could lose an update.
    """

    def __init__(
        self, name: str, documentation: str, labelnames: tuple[str, ...], registry: CollectorRegistry = REGISTRY
    ) -> None:
        self._name, self._documentation, self._labelnames = name, documentation, list(labelnames)
        self._children: dict[tuple[str, ...], Any] = {}
        registry.register(self)

    def labels(self, *values: str) -> Any:
        """The child of these label values."""
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._child()
        return child

    def _child(self) -> Any:
        raise NotImplementedError


class UnlockedCounter(_Unlocked):
    """A labelled counter without locks (see `_Unlocked`), exposed as prometheus_client's Counter would be."""

    def _child(self) -> _CounterChild:
        return _CounterChild()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)
        for values, child in list(self._children.items()):
            family.add_metric(values, child.value)
        yield family


class UnlockedHistogram(_Unlocked):
    """A labelled histogram without locks (see `_Unlocked`), exposed as prometheus_client's Histogram would be."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        buckets: tuple[float, ...],
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._bounds = buckets
        super().__init__(name, documentation, labelnames, registry)

    def _child(self) -> _HistogramChild:
        return _HistogramChild(self._bounds)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        bounds = [*map(str, self._bounds), "+Inf"]
        for values, child in list(self._children.items()):
            family.add_metric(values, list(zip(bounds, accumulate(child.counts), strict=True)), child.sum)
        yield family


HTTP_REQUESTS = UnlockedCounter(
    "http_requests_total", "HTTP requests by endpoint and status", ("method", "endpoint", "status")
)
HTTP_LATENCY = UnlockedHistogram(
    "http_request_duration_seconds",
    "HTTP request latency by endpoint",
    ("endpoint",),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DB_POOL_SIZE = Gauge("db_pool_size", "Configured size of the database connection pool")
DB_POOL_IN_USE = Gauge("db_pool_in_use", "Database connections currently checked out")
DB_POOL_TIMEOUTS = Counter("db_pool_timeouts_total", "Requests that gave up waiting for a DB connection")
DB_ERRORS = Counter("db_errors_total", "Database errors by kind", ["kind"])
DB_AVAILABLE = Gauge("db_available", "1 while the database answers the pool, 0 during an outage")

NEWS_FEED_FETCHES = Counter("news_feed_fetches_total", "News feed downloads by outcome", ["outcome"])
NEWS_ITEMS_STORED = Counter("news_items_stored_total", "New news items stored, by kind", ["kind"])
NEWS_REFRESH_SECONDS = Histogram(
    "news_refresh_duration_seconds",
    "Duration of one news refresh (all feeds)",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
AUTH_EVENTS = Counter("auth_events_total", "Sign-up, sign-in, refresh and logout events", ["event", "outcome"])
CACHE_EVENTS = UnlockedCounter(
    "cache_events_total",
    "Named-cache lookups and refreshes by cache and outcome (hit, miss, stale, coalesced, refresh, refresh_error)",
    ("cache", "event"),
)
CACHE_LOAD_SECONDS = Histogram(
    "cache_load_seconds",
    "Time to compute a cache entry, by cache",
    ["cache"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
CACHE_ENTRIES = Gauge("cache_entries", "Entries held by a named cache", ["cache"])
# Paper trading
TRADING_ORDERS = Counter("paper_orders_total", "Paper orders accepted", ["order_type", "side"])
TRADING_FILLS = Counter("paper_fills_total", "Paper order fills")
TRADING_TXN_RETRIES = Counter("paper_txn_retries_total", "Trading transactions rerun after a deadlock/lock timeout")
MATCHER_SECONDS = Histogram(
    "order_matcher_seconds",
    "Time to match one tick batch against working orders",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
# Realtime pipeline
TICKS = Counter("ticks_total", "Quotes published on the tick bus, by kind (stocks, indices)", ["kind"])
TICK_SUBSCRIBER_ERRORS = Counter("tick_subscriber_errors_total", "Tick bus subscribers that raised", ["subscriber"])
SOCKETIO_CLIENTS = Gauge("socketio_connected_clients", "Socket.IO clients connected to this process")
SOCKETIO_BAD_PACKETS = Counter(
    "socketio_undecodable_packets_total", "Socket.IO packets that did not decode (their clients were disconnected)"
)
SOCKETIO_SESSIONS_ENDED = Counter(
    "socketio_sessions_ended_total",
    "Signed-in Socket.IO connections ended: token revoked, user blocked or deleted",
    ["reason"],
)
SOCKETIO_EMITS = Counter("socketio_emits_total", "Socket.IO emits (one per room or broadcast), by event", ["event"])
FANOUT_PASS_SECONDS = Histogram(
    "fanout_pass_seconds",
    "Time to emit one conflated fan-out pass",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
_FLUSH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUOTE_WRITER_FLUSH_SECONDS = Histogram(
    "quote_writer_flush_seconds", "Wall time of one quote-writer flush (quotes and minute bars)", buckets=_FLUSH_BUCKETS
)
QUOTE_WRITER_FLUSH_CPU_SECONDS = Histogram(
    "quote_writer_flush_cpu_seconds",
    "CPU time of one quote-writer flush in its own green thread (not the fan-out or requests meanwhile)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
QUOTE_WRITER_FLUSH_LAG_SECONDS = Histogram(
    "quote_writer_flush_lag_seconds",
    "How long the oldest quote of a flush waited before it was written (flushes that wrote quotes)",
    buckets=_FLUSH_BUCKETS,
)
QUOTE_WRITER_LAG_SECONDS = Gauge("quote_writer_lag_seconds", "The oldest quote's wait at the last quote-writer flush")
QUOTE_WRITER_LAST_FLUSH = Gauge(
    "quote_writer_last_flush_timestamp_seconds", "Unix time of the last successful quote-writer flush"
)
SCHEDULER_JOB_SECONDS = Histogram(
    "scheduler_job_duration_seconds",
    "Scheduler job run time",
    ["job"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SCHEDULER_JOB_ERRORS = Counter("scheduler_job_errors_total", "Scheduler job runs that raised", ["job"])
SCHEDULER_LAG = Gauge("scheduler_lag_seconds", "How late the job's last run started against its schedule", ["job"])
UPSTREAM_REQUESTS = Counter(
    "upstream_requests_total", "Outbound HTTP requests by upstream and status", ["upstream", "status"]
)
UPSTREAM_RETRIES = Counter("upstream_retries_total", "Outbound HTTP retries by upstream", ["upstream"])

LEADER = Gauge("leader", "1 while this process is the leader (runs the writers and pollers), else 0")
LEADER_CHANGES = Counter("leader_changes_total", "Times this process became or stopped being the leader", ["change"])
TICK_BUS_ERRORS = Counter("tick_bus_errors_total", "Redis tick-bus failures (publish, listen, decode)", ["kind"])
UPSTOX_FEED_MESSAGES = Counter(
    "upstox_feed_messages_total", "Frames received from the Upstox market data feed (rate(): messages per second)"
)
UPSTOX_FEED_RECONNECTS = Counter("upstox_feed_reconnects_total", "Upstox feed connections made again after one ended")
UPSTOX_FEED_CONNECTED = Gauge("upstox_feed_connected", "1 while this process holds a live Upstox feed connection")
UPSTOX_FEED_KEYS = Gauge(
    "upstox_feed_subscribed_keys", "Instrument keys subscribed on the Upstox feed, by mode", ["mode"]
)
UPSTOX_FEED_LAG = Histogram(
    "upstox_feed_lag_seconds",
    "Receipt time minus the exchange timestamp of an Upstox feed frame (its currentTs, else its newest trade)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UPSTOX_REST_POLLED = Counter(
    "upstox_rest_polled_total",
    "Instruments refreshed over Upstox REST by the poller, by why (unstreamed, fallback)",
    ["why"],
)
# Price alerts
ALERT_EVALUATION_SECONDS = Histogram(
    "alert_evaluation_cpu_seconds",
    "CPU time to evaluate one tick batch against the alert index",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
ALERT_CLAIMS = Counter(
    "alert_claims_total", "Alerts a tick crossed, by the database's decision (won, lost, stale)", ["outcome"]
)
ALERT_ACTIONS = Counter("alert_actions_total", "Orders of fired alerts, by outcome (placed, rejected)", ["outcome"])
ALERT_INDEX_SIZE = Gauge("alert_index_alerts", "Active alerts held by this process's index")
ALERT_INDEX_REVISION = Gauge("alert_index_revision", "The alert revision this process's index has loaded")
