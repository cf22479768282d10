"""Prometheus metric objects, defined once per process (a leaf module; everyone may import it)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests by endpoint and status", ["method", "endpoint", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by endpoint",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DB_POOL_SIZE = Gauge("db_pool_size", "Configured size of the database connection pool")
DB_POOL_IN_USE = Gauge("db_pool_in_use", "Database connections currently checked out")
DB_POOL_TIMEOUTS = Counter("db_pool_timeouts_total", "Requests that gave up waiting for a DB connection")
DB_ERRORS = Counter("db_errors_total", "Database errors by kind", ["kind"])

# Paper trading
TRADING_ORDERS = Counter("paper_orders_total", "Paper orders accepted", ["order_type", "side"])
TRADING_FILLS = Counter("paper_fills_total", "Paper order fills")
TRADING_TXN_RETRIES = Counter("paper_txn_retries_total", "Trading transactions rerun after a deadlock/lock timeout")
MATCHER_SECONDS = Histogram(
    "order_matcher_seconds", "Time to match one tick batch against working orders",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
