"""Benchmark: what the dashboard page costs a browser, and how fast live prices reach it.

Usage: .venv/bin/python bench/dashboard.py [--seconds 20] [--symbol RELIANCE]
Starts a throwaway MariaDB (migrated, seeded), the app under gunicorn (gevent, 1 worker, the simulator
at its default tick of 1 s, the market held open) and Debian's headless Chromium (Playwright). Prints:
the first visit of / and of a stock page (requests, bytes, time to the first index level, the live
connection and the chart), a reload (ETag revalidations), and the latency of `price_update` frames
(the quote's `as_of` to the frame's arrival in the browser) for one watched stock over --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from harness import ROOT, migrated_database
from playwright.sync_api import sync_playwright

from backend.local_app import CHROMIUM, CHROMIUM_ARGS, LocalApp
from backend.seed import seed_market

RESOURCES = """() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
  .map((e) => ({name: e.name, transfer: e.transferSize, body: e.decodedBodySize}))"""


def weigh(page, label: str, started: float, marks: dict[str, float]) -> None:
    """Print requests and bytes of the page's resources so far, and the time marks."""
    entries = [e for e in page.evaluate(RESOURCES) if "/socket.io/" not in e["name"]]
    transferred = sum(e["transfer"] for e in entries)
    decoded = sum(e["body"] for e in entries)
    vendor = sum(e["body"] for e in entries if "/static/vendor/" in e["name"])
    times = ", ".join(f"{name} {(at - started) * 1000:,.0f} ms" for name, at in marks.items())
    print(
        f"{label}: {len(entries)} requests, {transferred / 1024:,.1f} KiB transferred, "
        f"{decoded / 1024:,.1f} KiB decoded ({vendor / 1024:,.1f} KiB vendored libraries); {times}"
    )


def visit(page, path: str, waits: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Open `path` and note when each selector of `waits` first matches."""
    started = time.monotonic()
    page.goto(path)
    marks = {}
    for name, selector in waits.items():
        page.wait_for_selector(selector, timeout=30_000)
        marks[name] = time.monotonic()
    return started, marks


def latencies(page, symbol: str, seconds: float) -> list[float]:
    """Milliseconds from each price_update's as_of to its arrival, for `seconds` on the stock page."""
    found: list[float] = []

    def on_frame(payload) -> None:
        arrived = time.time()
        if isinstance(payload, str) and payload.startswith('42["price_update"'):
            quote = json.loads(payload[2:])[1]
            if quote["symbol"] == symbol:
                found.append((arrived - datetime.fromisoformat(quote["as_of"]).timestamp()) * 1000)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.goto(f"/#/stock/{symbol}")
    page.reload()  # a fresh socket, seen by the listener from its first frame
    page.wait_for_selector(".chart[data-state=ready]")
    page.wait_for_timeout(seconds * 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--symbol", default="RELIANCE")
    args = parser.parse_args()
    subprocess.run(["bash", "scripts/vendor_assets.sh"], cwd=ROOT, check=True)
    print(f"command: python bench/dashboard.py --seconds {args.seconds:g} --symbol {args.symbol}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_dashboard") as db:
        server = None
        try:
            seed_market(db.config(), seed=1)
            env = {
                **os.environ,
                "DATABASE_URL": db.url(),
                "SIM_ALWAYS_OPEN": "1",
                "LOG_LEVEL": "WARNING",
                "NEWS_FEEDS": "",
            }
            server = LocalApp(env, Path(tmp) / "gunicorn.log").start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 860}).new_page()
                market = {
                    "first index level": ".index-chip",
                    "live socket": "#connection[data-state=connected]",
                    "movers": ".movers-col tbody tr[data-symbol]",
                }
                weigh(page, "first visit of /", *visit(page, "/", market))
                started, marks = visit(page, f"/#/stock/{args.symbol}", {"chart ready": ".chart[data-state=ready]"})
                print(f"then the stock page: chart ready in {(marks['chart ready'] - started) * 1000:,.0f} ms")
                page.reload()
                weigh(
                    page,
                    "reload of the stock page (cached)",
                    *visit(page, f"/#/stock/{args.symbol}", {"chart ready": ".chart[data-state=ready]"}),
                )
                found = latencies(page, args.symbol, args.seconds)
                browser.close()
            if found:
                found.sort()
                print(
                    f"price_update latency (as_of -> browser), {len(found)} frames over {args.seconds:g} s: "
                    f"median {statistics.median(found):.0f} ms, p95 {found[int(len(found) * 0.95)]:.0f} ms, "
                    f"max {found[-1]:.0f} ms"
                )
            else:
                print("no price_update frames seen")
        finally:
            if server is not None:
                server.stop()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
