"""Which browser origins may open a Socket.IO connection."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse


def configured_or_same_host(allowed: list[str]) -> Callable[[str, dict], bool]:
    """An origin check for python-engineio: the configured origins, `*`, or the page's own host.

    The dashboard at `/` is served by the app itself, so its origin always matches the Host header
    (X-Forwarded-Host behind a proxy) whatever ALLOWED_ORIGINS says; the scheme is not compared
    because a TLS-terminating proxy hands the app plain HTTP. A page on another site never matches.
    """
    configured = frozenset(allowed)

    def check(origin: str, environ: dict) -> bool:
        if "*" in configured or origin in configured:
            return True
        host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST") or ""
        return bool(host) and urlparse(origin).netloc == host.split(",")[0].strip()

    return check
