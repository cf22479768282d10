"""Outbound HTTP: one `requests.Session` per client with timeouts, retries, 429 handling and a rate limit.

Retries back off exponentially on connection errors, timeouts and 5xx answers; a 429 waits for its
`Retry-After` (seconds or an HTTP date) before trying again. A client-side limiter keeps requests
under the upstream's published limits (several windows, e.g. per second, minute and 30 minutes).
Waiting uses the injected `sleep` (Socket.IO's cooperative sleep in the app), never `time.sleep`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from backend.extensions import socketio
from utils import metrics

log = logging.getLogger(__name__)
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


class UpstreamError(RuntimeError):
    """The upstream answered with an error, or could not be reached after the retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _cooperative_sleep(seconds: float) -> None:
    socketio.sleep(seconds)


class RateLimiter:
    """Sliding-window limits, e.g. ((1, 40), (60, 450)): at most 40 calls a second and 450 a minute."""

    def __init__(
        self,
        windows: Sequence[tuple[float, int]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = _cooperative_sleep,
    ) -> None:
        self.windows = tuple(windows)
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._calls: collections.deque[float] = collections.deque()
        self._horizon = max((span for span, _ in self.windows), default=0)

    def acquire(self) -> float:
        """Wait until one more call fits every window, record it; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._delay(self.clock())
                if delay <= 0:
                    self._calls.append(self.clock())
                    return waited
            self.sleep(delay)
            waited += delay

    def _delay(self, now: float) -> float:
        while self._calls and self._calls[0] <= now - self._horizon:
            self._calls.popleft()
        delay = 0.0
        for span, limit in self.windows:
            inside = [t for t in self._calls if t > now - span]
            if len(inside) >= limit:
                delay = max(delay, inside[-limit] + span - now)
        return delay


def retry_after_seconds(value: str | None, default: float, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); `default` when absent."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpClient:
    """GET JSON/bytes from one upstream with a session of its own."""

    def __init__(
        self,
        name: str,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        limiter: RateLimiter | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = _cooperative_sleep,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.limiter = limiter
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers.update(headers or {})

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET `url` and decode its JSON body (UpstreamError on failure)."""
        response = self._get(url, params)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{self.name}: response is not JSON", response.status_code) from exc

    def get_bytes(self, url: str) -> bytes:
        """GET `url` and return its raw body (UpstreamError on failure)."""
        return self._get(url, None).content

    def _get(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        attempt = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                response = self.session.get(url, params=params, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                metrics.UPSTREAM_REQUESTS.labels(self.name, "error").inc()
                if attempt >= self.max_retries:
                    raise UpstreamError(f"{self.name}: {exc.__class__.__name__} after {attempt + 1} tries") from exc
                wait = self._backoff(attempt)
            else:
                metrics.UPSTREAM_REQUESTS.labels(self.name, str(response.status_code)).inc()
                if response.status_code < 400:
                    return response
                retriable = response.status_code == 429 or response.status_code in _RETRY_STATUSES
                if not retriable or attempt >= self.max_retries:
                    raise UpstreamError(
                        f"{self.name}: HTTP {response.status_code} {_snippet(response)}", response.status_code
                    )
                wait = self._backoff(attempt)
                if response.status_code == 429:
                    wait = min(retry_after_seconds(response.headers.get("Retry-After"), wait), self.max_backoff_s)
            attempt += 1
            metrics.UPSTREAM_RETRIES.labels(self.name).inc()
            log.warning("%s: retry %d in %.2fs", self.name, attempt, wait)
            self.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_s * (2**attempt), self.max_backoff_s)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _snippet(response: requests.Response) -> str:
    return response.text[:200].replace("\n", " ")
