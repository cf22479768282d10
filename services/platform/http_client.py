"""Outbound HTTP, the one way: an `HttpClient` per upstream (Upstox, Google, news feeds) owns its
`requests.Session`, timeouts, retries (urllib3's `Retry`, honouring Retry-After) and a client-side rate limit.

The limiter keeps requests under the upstream's published limits (several windows, e.g. per second,
minute and 30 minutes); it waits with Socket.IO's cooperative sleep, never `time.sleep`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from backend.extensions import socketio
from utils import metrics

log = logging.getLogger(__name__)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class UpstreamError(RuntimeError):
    """The upstream answered with an error, or could not be reached (or did not answer in time) after the retries."""

    def __init__(self, message: str, status: int | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out


def _timed_out(exc: requests.RequestException) -> bool:
    """Whether a request failed by a timeout (requests reports a read timeout whose retries ran out as a
    ConnectionError wrapping urllib3's MaxRetryError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    # urllib3's NewConnectionError (refused, unresolvable) subclasses its ConnectTimeoutError
    return isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


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


class _Retry(Retry):
    """urllib3's Retry with Retry-After capped: an upstream must not park a job for hours."""

    MAX_RETRY_AFTER_S = 30.0

    def get_retry_after(self, response: Any) -> float | None:
        """Retry-After in seconds (delta seconds or an HTTP date), at most MAX_RETRY_AFTER_S."""
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER_S)


class HttpClient:
    """Requests to one upstream through a session of its own: timeouts, retries, a rate limit, metrics.

    Retries are urllib3's: connection errors, read errors, 429 and 5xx answers of idempotent methods
    (GET, HEAD) are retried `max_retries` times with exponential backoff; a 429 or 503 waits for its
    Retry-After. Under gevent and eventlet the wait is cooperative (their monkey patching covers it).
    """

    def __init__(
        self,
        name: str,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        limiter: RateLimiter | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.limiter = limiter
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        retry = _Retry(
            total=max_retries,
            backoff_factor=backoff_s,
            backoff_max=max_backoff_s,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer is returned and judged here, not raised by urllib3
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send a request (after the rate limit) with the client's timeout unless one is given; any status is
        returned; UpstreamError when the upstream cannot be reached after the retries."""
        if self.limiter is not None:
            self.limiter.acquire()
        kwargs.setdefault("timeout", self.timeout_s)
        try:
            response = self.session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            metrics.UPSTREAM_REQUESTS.labels(self.name, "error").inc()
            tries = self.max_retries + 1 if method.upper() in ("GET", "HEAD") else 1
            timed_out = _timed_out(exc)
            what = "Timeout" if timed_out else exc.__class__.__name__
            raise UpstreamError(f"{self.name}: {what} after {tries} tries", timed_out=timed_out) from exc
        history = getattr(response.raw, "retries", None)
        if history is not None and history.history:
            metrics.UPSTREAM_RETRIES.labels(self.name).inc(len(history.history))
            log.warning("%s: answered after %d retries", self.name, len(history.history))
        metrics.UPSTREAM_REQUESTS.labels(self.name, str(response.status_code)).inc()
        return response

    def get_json(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        """GET `url` and decode its JSON body (UpstreamError on an error status or a body that is not JSON)."""
        response = self._get_ok(url, params, headers)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{self.name}: response is not JSON", response.status_code) from exc

    def get_bytes(self, url: str) -> bytes:
        """GET `url` and return its raw body (UpstreamError on failure)."""
        return self._get_ok(url, None, None).content

    def _get_ok(self, url: str, params: dict[str, Any] | None, headers: dict[str, str] | None) -> requests.Response:
        response = self.request("GET", url, params=params, headers=headers)
        if response.status_code >= 400:
            raise UpstreamError(f"{self.name}: HTTP {response.status_code} {_snippet(response)}", response.status_code)
        return response

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _snippet(response: requests.Response) -> str:
    return response.text[:200].replace("\n", " ")
