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

# Realtime pipeline
TICKS = Counter("ticks_total", "Quotes published on the tick bus, by kind (stocks, indices)", ["kind"])
TICK_SUBSCRIBER_ERRORS = Counter("tick_subscriber_errors_total", "Tick bus subscribers that raised", ["subscriber"])
SOCKETIO_CLIENTS = Gauge("socketio_connected_clients", "Socket.IO clients connected to this process")
SOCKETIO_EMITS = Counter("socketio_emits_total", "Socket.IO emits (one per room or broadcast), by event", ["event"])
FANOUT_PASS_SECONDS = Histogram(
    "fanout_pass_seconds", "Time to emit one conflated fan-out pass",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SCHEDULER_JOB_SECONDS = Histogram(
    "scheduler_job_duration_seconds", "Scheduler job run time", ["job"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SCHEDULER_JOB_ERRORS = Counter("scheduler_job_errors_total", "Scheduler job runs that raised", ["job"])
SCHEDULER_LAG = Gauge("scheduler_lag_seconds", "How late the job's last run started against its schedule", ["job"])
UPSTREAM_REQUESTS = Counter("upstream_requests_total", "Outbound HTTP requests by upstream and status",
                            ["upstream", "status"])
UPSTREAM_RETRIES = Counter("upstream_retries_total", "Outbound HTTP retries by upstream", ["upstream"])
