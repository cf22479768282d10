"""Fetch and parse RSS/Atom feeds through one HttpClient, with a deadline and a size cap per request.

Bytes are downloaded here and handed to feedparser as a stream, so feedparser never opens a URL
itself and no process-wide socket timeout is ever set.
"""

from __future__ import annotations

import hashlib
import io
import time
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import requests
import urllib3

from controller.news.headlines import NewsContent
from services.platform.http_client import HttpClient, UpstreamError
from utils.text import strip_html, truncate

USER_AGENT = "market-dashboard-news/1.0 (+RSS reader)"
MAX_FEED_BYTES = 5 * 1024 * 1024
HEADLINE_MAX = 500
SUMMARY_MAX = 1000
SOURCE_MAX = 100
CATEGORY_MAX = 64
URL_MAX = 2000
_READ_SIZE = 64 * 1024


class FeedError(Exception):
    """A feed could not be fetched or is not a feed; the message says why (no URL secrets)."""


@dataclass(frozen=True)
class FeedItem(NewsContent):
    """One entry of a feed, as plain text; `published_at` is aware UTC or None when the feed has none."""

    published_at: datetime | None


def feed_client(timeout_s: float) -> HttpClient:
    """The client of one news run (keep-alive across feeds of one host; a feed failing is skipped, not retried)."""
    accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
    return HttpClient("news", timeout_s=timeout_s, max_retries=0, headers={"User-Agent": USER_AGENT, "Accept": accept})


def display_url(url: str) -> str:
    """scheme://host[:port]/path of a URL, for logs (credentials or a query string may carry a key)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def download(client: HttpClient, url: str, timeout_s: float) -> tuple[bytes, str | None]:
    """The body and Content-Type of `url`; FeedError on error status, timeout, overrun or size cap."""
    deadline = time.monotonic() + timeout_s
    try:
        with client.request("GET", url, timeout=(timeout_s, timeout_s), stream=True) as response:
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code}")
            body = bytearray()
            # read1 returns what has arrived, so a feed that trickles bytes still meets the deadline
            while chunk := response.raw.read1(_READ_SIZE, decode_content=True):
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise FeedError(f"took longer than {timeout_s:g} s")
            return bytes(body), response.headers.get("Content-Type")
    except UpstreamError as exc:  # not reached (or no answer in time) before any byte arrived
        if exc.timed_out:
            raise FeedError(f"timed out after {timeout_s:g} s") from exc
        raise FeedError(f"unreachable ({exc.__cause__.__class__.__name__})") from exc
    except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
        raise FeedError(f"timed out after {timeout_s:g} s") from exc
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise FeedError(f"unreachable ({exc.__class__.__name__})") from exc


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > URL_MAX or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
        return None
    return value


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(timegm(parsed), UTC) if parsed else None


def _image(entry: Any) -> str | None:
    candidates = [m.get("url") for m in entry.get("media_content", []) + entry.get("media_thumbnail", [])]
    candidates += [
        link.get("href")
        for link in entry.get("links", [])
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/")
    ]
    return next((url for url in map(_http_url, candidates) if url), None)


def _summary(entry: Any) -> str | None:
    html = entry.get("summary") or next((c.get("value") for c in entry.get("content", []) if c.get("value")), "")
    text = strip_html(html)
    return truncate(text, SUMMARY_MAX) if text else None


def _category(entry: Any) -> str | None:
    term = next((strip_html(tag.get("term")) for tag in entry.get("tags", []) if tag.get("term")), "")
    return truncate(term, CATEGORY_MAX) if term else None


def parse_feed(content: bytes, url: str, content_type: str | None, max_items: int) -> list[FeedItem]:
    """The first `max_items` usable entries (an http(s) link and a title) of an RSS or Atom document."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # No sanitizing or URI rewriting: every field is reduced to plain text below anyway, and skipping them is
    # faster (bench/news.py).
    parsed = feedparser.parse(
        io.BytesIO(content), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    source = truncate(strip_html(parsed.feed.get("title")), SOURCE_MAX) or urlsplit(url).hostname or "unknown"
    items = []
    for entry in parsed.entries:
        link, headline = _http_url(entry.get("link")), strip_html(entry.get("title"))
        if not link or not headline:
            continue  # never store a placeholder for a missing title or link
        items.append(
            FeedItem(
                url=link,
                headline=truncate(headline, HEADLINE_MAX),
                summary=_summary(entry),
                source=source,
                category=_category(entry),
                image_url=_image(entry),
                published_at=_published(entry),
            )
        )
        if len(items) >= max_items:
            break
    if not items and (parsed.bozo or not parsed.version):
        reason = parsed.get("bozo_exception")
        raise FeedError(f"malformed or not a feed ({reason.__class__.__name__ if reason else 'no entries'})")
    return items


def fetch_feed(client: HttpClient, url: str, timeout_s: float, max_items: int) -> list[FeedItem]:
    """Download and parse one feed; FeedError when it is down, slow, too big or not a feed."""
    content, content_type = download(client, url, timeout_s)
    return parse_feed(content, url, content_type, max_items)


def normalize_url(url: str) -> str:
    """The URL news is de-duplicated by: no fragment, no utm_* tracking parameters."""
    parts = urlsplit(url.strip())
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("utm_"))
    return parts._replace(query=query, fragment="").geturl()


def url_hash(url: str) -> str:
    """SHA-256 (hex) of the normalized URL: the news table's unique key."""
    return hashlib.sha256(normalize_url(url).encode()).hexdigest()
