"""Benchmark: bulk-load speed of the seed (2,000 instruments x 250 daily candles = 500k rows).

Usage: .venv/bin/python bench/seed.py [--extra-symbols 1800] [--days 250]
Starts a throwaway MariaDB (like the tests), migrates, seeds, and prints rows/s. `--extra-symbols 9800` builds the
10,000-instrument synthetic NSE universe (issue 21's scale: about 6.3M candle rows with `--days 250`). `--days 520`
is the seed's default (about two years, what `make run` stores); `--days 1300` about five years (the scanner's
5-year benchmark, bench/scan.py --days 1300 --range-years 5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from harness import migrated_database

from backend.seed import seed_market
from utils.timeutil import IST


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, default=1800)
    parser.add_argument("--days", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp), "bench_seed") as server:
        # after the close: every stock gets the full 375-minute session as well as `days` daily candles
        now = datetime(2026, 11, 20, 16, 0, tzinfo=IST)
        started = time.perf_counter()
        report = seed_market(server.config(), seed=1, extra_symbols=args.extra_symbols, days=args.days, now=now)
        elapsed = time.perf_counter() - started
    print(f"command: python bench/seed.py --extra-symbols {args.extra_symbols} --days {args.days}")
    print(f"instruments: {report.stocks}  indices: {report.indices}")
    print(
        f"daily candle rows: {report.daily_rows:,}  minute candle rows: {report.minute_rows:,}  "
        f"index candle rows: {report.index_rows:,}"
    )
    print(f"total seed time: {elapsed:.1f} s  ->  {report.candle_rows / elapsed:,.0f} stock candle rows/s")


if __name__ == "__main__":
    main()
