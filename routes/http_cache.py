"""Cacheable JSON responses: the success envelope with ETag, Cache-Control and 304 on If-None-Match.

Built by hand rather than with `make_conditional`, which renders the whole WSGI response once more
and costs more than the rest of a cached market-data request (bench/http_endpoints.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, current_app
from pydantic import BaseModel, ConfigDict

from backend.extensions import request_environ
from utils.locked_cache import Memo
from utils.quote_format import json_string

QUOTE_MAX_AGE_S = 2  # live-ish numbers: detail, movers, indices, search
SLOW_MAX_AGE_S = 30  # sectors
HISTORY_MAX_AGE_S = 60
_encoded = Memo(maxsize=512)


class Query(BaseModel):
    """Base of the public endpoints' query models: unknown parameters are ignored, strings are stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)


def _encode(data: Any, extra: dict[str, Any]) -> tuple[bytes, str]:
    """The envelope's JSON bytes and ETag. Cached payloads are the same object on every hit, so the
    encoding is memoised by identity; the entry holds the object, so its id cannot be reused meanwhile."""
    key = (id(data), *extra.items())
    found = _encoded.get(key)
    if found is not None and found[0] is data:
        return found[1], found[2]
    body = current_app.json.dumps({"status": "success", "data": data, **extra}, separators=(",", ":")).encode()
    etag = _etag(body)
    _encoded.put(key, (data, body, etag))
    return body, etag


def cached_json(data: Any, max_age_s: int, no_cache: bool = False, **extra: Any) -> Response:
    """`{"status": "success", "data": data, **extra}` with a strong ETag; 304 when the client has it.
    `data` must not be mutated after it is passed here (cached payloads never are)."""
    body, etag = _encode(data, extra)
    return _conditional(body, etag, max_age_s, no_cache)


def cached_json_rows(rows: list[bytes], max_age_s: int, source: str) -> Response:
    """`cached_json(rows, count=len(rows), source=source)` for rows that are JSON already (encoded once and shared
    between responses): the envelope is joined around them, so a fresh list of rows costs no encoding."""
    tail = b'],"count":%d,"source":%s}' % (len(rows), json_string(source).encode())
    body = b'{"status":"success","data":[' + b",".join(rows) + tail
    return _conditional(body, _etag(body), max_age_s, False)


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'  # SHA-256 has CPU instructions here: faster than BLAKE2


def _conditional(body: bytes, etag: str, max_age_s: int, no_cache: bool) -> Response:
    known = request_environ().get("HTTP_IF_NONE_MATCH")
    if known and (known.strip() == "*" or etag in known):
        response = Response(status=304)
    else:
        response = Response(body, content_type="application/json")
    headers = response.headers  # added one by one: cheaper than werkzeug's generic Headers(list) (BENCHMARKS, search)
    headers.add("ETag", etag)
    headers.add("Cache-Control", "no-cache" if no_cache else f"public, max-age={max_age_s}")
    return response
