"""Benchmark: the news job over loopback feeds, and the news/sentiment endpoints under wrk.

Usage: .venv/bin/python bench/news.py [--feeds 10] [--items 50] [--seconds 5] [--connections 32]
Starts a throwaway MariaDB (migrated, seeded), serves generated RSS feeds from 127.0.0.1, times
refresh_news() (first run inserts, second run updates), the per-headline scoring and tagging, then
runs gunicorn (gevent, 1 worker) and wrk against /news/latest and /sentiment/market with the
response caches on (default TTLs) and off (TTL 0).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from harness import migrated_database, run_wrk, wrk_summary

from backend.app import create_app
from backend.local_app import LocalApp
from backend.seed import seed_market
from backend.settings import Settings
from services.news.headlines import refresh_news, symbol_matcher
from utils.reference_data import load_stocks
from utils.sentiment import score_text
from utils.timeutil import IST, UTC

ENDPOINTS = ("/news/latest", "/news/latest?q=bank", "/news/latest?symbol=RELIANCE", "/sentiment/market")
NOW = datetime(2026, 11, 20, 11, 0, tzinfo=IST)
VERBS = [
    "surges",
    "falls",
    "rallies",
    "slips",
    "holds steady",
    "plunges",
    "gains",
    "reports results",
    "wins order",
    "faces probe",
    "upgraded",
    "downgraded",
]


def make_feed(rng: random.Random, feed: int, items: int) -> bytes:
    stocks = load_stocks()
    entries = []
    for i in range(items):
        stock = rng.choice(stocks)
        name = stock.company_name.replace(" Ltd.", "")
        title = f"{rng.choice([name, stock.symbol])} {rng.choice(VERBS)} as {rng.choice(stocks).symbol} moves"
        body = f"<p><b>{name}</b> shares &amp; the market: {rng.randint(1, 9)}% move.</p><script>x()</script>"
        stamp = format_datetime(datetime(2026, 11, 20, 4, i % 60, feed % 60, tzinfo=UTC), usegmt=True)
        entries.append(
            f"<item><title>{escape(title)}</title><link>https://bench.example.test/{feed}/{i}</link>"
            f"<description>{escape(body)}</description><pubDate>{stamp}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench feed {feed}</title>'
        f"{''.join(entries)}</channel></rss>"
    ).encode()


def serve_feeds(feeds: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = feeds.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run_endpoints(db_url: str, cache_on: bool, args: argparse.Namespace, workdir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "warning", "NEWS_FEEDS": "", "APP_ENV": "development"}
    if not cache_on:
        env.update(NEWS_CACHE_TTL_S="0", SENTIMENT_CACHE_TTL_S="0")
    server = LocalApp(env, workdir / "app.log").start()
    try:
        base = server.url
        label = "cache on " if cache_on else "cache off"
        paths = ("/health",) if cache_on else ()  # the stack's own ceiling right now, for comparison
        for path in (*paths, *ENDPOINTS):
            started = time.perf_counter()
            urllib.request.urlopen(base + path, timeout=30).read()  # warm-up (first use loads the calendar)
            first_ms = (time.perf_counter() - started) * 1000
            result = run_wrk(base + path, args.connections, args.seconds, threads=2)
            print(f"  {label} GET {path:<30} {wrk_summary(result)}  first {first_ms:,.0f} ms")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    rng = random.Random(7)
    feeds = {f"/feed{n}.xml": make_feed(rng, n, args.items) for n in range(args.feeds)}
    httpd = serve_feeds(feeds)
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_news") as db:
        try:
            seed_market(db.config(), seed=1, days=20, now=NOW)
            urls = [f"http://127.0.0.1:{httpd.server_port}{path}" for path in feeds]
            app = create_app(
                Settings.load(
                    _env_file=None,
                    database_url=db.url(),
                    news_feeds=urls,
                    news_max_items_per_feed=args.items,
                    log_level="WARNING",
                )
            )
            print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores, shared)")
            print(
                f"command: python bench/news.py --feeds {args.feeds} --items {args.items} "
                f"--seconds {args.seconds} --connections {args.connections}"
            )
            with app.app_context():
                headlines = [t.decode() for body in feeds.values() for t in re.findall(rb"<title>(.*?)</title>", body)]
                matcher = symbol_matcher()
                started = time.perf_counter()
                for text in headlines:
                    score_text(text)
                    matcher.find(text)
                per_item = (time.perf_counter() - started) / len(headlines)
                print(f"scoring + tagging: {per_item * 1e6:.0f} µs per headline ({len(matcher)} matcher terms)")
                for run in ("first (inserts)", "second (updates)"):
                    report = refresh_news(now=NOW)
                    print(
                        f"refresh {run}: {report['feeds']} feeds, {report['items']} items, {report['new']} new "
                        f"in {report['duration_ms']} ms ({report['items'] / report['duration_ms'] * 1000:,.0f} "
                        "items/s)"
                    )
            app.extensions["db"].close()
            print(
                f"wrk -t2 -c{args.connections} -d{args.seconds}s, gunicorn gevent 1 worker, "
                f"{args.feeds * args.items} stored items:"
            )
            for cache_on in (True, False):
                run_endpoints(db.url(), cache_on, args, Path(tmp))
            print(f"load average after: {os.getloadavg()[0]:.2f}")
        finally:
            httpd.shutdown()


if __name__ == "__main__":
    main()
