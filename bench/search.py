"""Benchmark: stock search from the in-memory index as the universe grows (2,001 and 10,000 instruments).

Usage: .venv/bin/python bench/search.py [--extra-symbols 1800 9800] [--days 5] [--duration 10] [--rounds 3]
                                        [--connections 64] [--market-open]
For each universe size: a throwaway MariaDB, migrated and seeded (`--days` of daily candles: search reads none),
then
- in process: the CPU time (thread_time) per query of `stock_views.search` (there is no response cache: every query
  is answered by the index), the route's work without HTTP, and of the index alone (`stock_search.search_stocks`),
  over the typeahead's queries and over the four-letter ones; and the cost of re-ranking the index (done every
  CACHE_TTL_SEARCH_S, off the request path) and of rebuilding it (when the instrument list changes);
- over HTTP (gunicorn, gevent, 1 worker; wrk at `--connections`): a typeahead of distinct prefixes (every two-letter
  prefix, then every three-letter one that matches something; `limit` 5..14 varies too) against /health, in
  interleaved rounds; and the next keystroke apart ("4 letters": every four-letter prefix that matches something),
  which the index answers by a walk rather than from its table of short queries (utils/search_index.py). The market
  is in whatever phase the clock says (printed): while it is open the simulator ticks every instrument each second
  and search rows carry live prices; `--market-open` opens it whatever the clock says (FORCE_MARKET_OPEN).
"""

from __future__ import annotations

import argparse
import json
import os
import string
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from harness import children, cpu_seconds, migrated_database, run_wrk, server_env, wrk_medians_table
from http_endpoints import seed_database

from backend.app import create_app
from backend.local_app import LocalApp
from backend.settings import Settings
from services.market import stock_search, stock_views

_TYPEAHEAD_LUA = """
local queries = {%s}
local n = 0
request = function()
  n = n + 1
  local q = queries[(n %% #queries) + 1]
  return wrk.format("GET", "/stocks/search?q=" .. q .. "&limit=" .. (5 + (math.floor(n / #queries) %% 10)))
end
"""


def typeahead_queries(app) -> tuple[list[str], list[str]]:
    """Every two-letter prefix, then every three-letter one that matches a stock (as a user types them); and every
    four-letter prefix that matches one (the next keystroke)."""
    letters = string.ascii_lowercase + string.digits
    with app.app_context():
        two = [a + b for a in letters for b in letters]
        three = [p + c for p in two for c in letters if stock_search.search_stocks(p + c, 1)]
        four = [p + c for p in three for c in letters if stock_search.search_stocks(p + c, 1)]
    return two + three, four


def _cpu_ms(queries: list[str], search: Callable[[str, int], object]) -> float:
    """CPU time per query of `search(query, limit)`, `limit` 5..14 as the typeahead's."""
    started = time.thread_time()
    for n, query in enumerate(queries):
        search(query, 5 + n % 10)
    return (time.thread_time() - started) * 1000 / len(queries)


def in_process(app, queries: list[str], longer: list[str]) -> dict:
    """CPU per query (the view and the index alone, typeahead and four-letter queries), and the index's re-rank and
    rebuild costs."""
    with app.app_context():
        stock_views.search("warm", 10)  # builds the index (and the pool)
        view_ms, long_view_ms = _cpu_ms(queries, stock_views.search), _cpu_ms(longer, stock_views.search)
        index_ms, long_index_ms = (
            _cpu_ms(queries, stock_search.search_stocks),
            _cpu_ms(longer, stock_search.search_stocks),
        )
        index = stock_search.ranking().index
        started = time.thread_time()
        index.ranked([0.0] * len(index.instruments))
        rerank_ms = (time.thread_time() - started) * 1000
        started = time.thread_time()
        type(index)(index.instruments)
        rebuild_ms = (time.thread_time() - started) * 1000
    return {
        "view_ms": view_ms,
        "index_ms": index_ms,
        "long_view_ms": long_view_ms,
        "long_index_ms": long_index_ms,
        "rerank_ms": rerank_ms,
        "rebuild_ms": rebuild_ms,
    }


def _lua(workdir: Path, name: str, queries: list[str]) -> str:
    script = workdir / f"{name}.lua"
    script.write_text(_TYPEAHEAD_LUA % ", ".join(f'"{q}"' for q in queries))
    return str(script)


def over_http(server, args: argparse.Namespace, queries: list[str], longer: list[str], workdir: Path) -> dict:
    """Interleaved wrk rounds of /health, the typeahead and the four-letter queries on one gunicorn worker."""
    env = {**server_env(server.config().url(), workdir), **({"FORCE_MARKET_OPEN": "1"} if args.market_open else {})}
    app = LocalApp(env, workdir / "app.log").start()
    runs: dict[str, list[dict]] = {"/health": [], "typeahead": [], "4 letters": []}
    try:
        worker = children(app.pid)[0]
        targets = [
            ("/health", app.url + "/health", None),
            ("typeahead", app.url + "/", _lua(workdir, "typeahead", queries)),
            ("4 letters", app.url + "/", _lua(workdir, "four_letters", longer)),
        ]
        with urllib.request.urlopen(app.url + "/stocks/search?q=warm", timeout=60):
            pass  # the index is built by the first query
        with urllib.request.urlopen(app.url + "/market/status", timeout=10) as answer:
            phase = json.load(answer)["data"]["phase"]
        for _, url, script in targets:
            run_wrk(url, args.connections, 2, script)  # warm-up
        for _ in range(args.rounds):
            for name, url, script in targets:
                cpu = cpu_seconds(worker)
                result = run_wrk(url, args.connections, args.duration, script)
                result["cpu_ms"] = (cpu_seconds(worker) - cpu) * 1000 / max(result["requests"], 1)
                result["load"] = os.getloadavg()[0]
                runs[name].append(result)
    finally:
        app.stop()
    return {"runs": runs, "phase": phase}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra-symbols", type=int, nargs="+", default=[1800, 9800])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--market-open", action="store_true", help="open the market whatever the clock says")
    args = parser.parse_args()
    print(
        f"command: python bench/search.py --extra-symbols {' '.join(map(str, args.extra_symbols))} --days {args.days} "
        f"--duration {args.duration} --rounds {args.rounds} --connections {args.connections}"
        + (" --market-open" if args.market_open else "")
    )
    for extra in args.extra_symbols:
        with tempfile.TemporaryDirectory() as tmp, migrated_database(Path(tmp) / "db", "bench_search") as server:
            summary = seed_database(server, extra, args.days)
            settings = Settings.load(
                app_env="development", database_url=server.config().url(), log_level="WARNING", _env_file=None
            )
            app = create_app(settings)
            try:
                queries, longer = typeahead_queries(app)
                local = in_process(app, queries, longer)
            finally:
                app.extensions["db"].close()
            http = over_http(server, args, queries, longer, Path(tmp))
        report(summary, (queries, longer), local, http, args)


def report(
    summary: str, queries: tuple[list[str], list[str]], local: dict, http: dict, args: argparse.Namespace
) -> None:
    """Print one universe size's figures."""
    print(
        f"\ndatabase: {summary}; typeahead: {len(queries[0]):,} distinct prefixes; "
        f"four-letter prefixes: {len(queries[1]):,}"
    )
    print(
        f"in process, CPU per query: view {local['view_ms']:.3f} ms, index alone {local['index_ms']:.4f} ms; "
        f"four letters: view {local['long_view_ms']:.3f} ms, index alone {local['long_index_ms']:.4f} ms"
    )
    print(
        f"re-rank (every CACHE_TTL_SEARCH_S, in the background) {local['rerank_ms']:.1f} ms; "
        f"rebuild (instrument list changed) {local['rebuild_ms']:.1f} ms"
    )
    print(
        f"over HTTP (market {http['phase']}), wrk -c{args.connections} -d{args.duration}s, "
        f"medians of {args.rounds} interleaved rounds"
    )
    print("\n".join(wrk_medians_table(http["runs"], "/health")))


if __name__ == "__main__":
    main()
