"""Benchmark: what a web worker's memory is made of, at import time and running.

Usage: .venv/bin/python bench/memory.py [imports]
       .venv/bin/python bench/memory.py worker [--extra-symbols 9800] [--alerts 100000] [--settle 30] [--trace 0]

`imports`: in a fresh interpreter patched by gevent as the worker is, imports the libraries in groups, then the
app, then builds it (no database needed: the pool connects lazily), printing the resident memory (RSS) each step
adds. A library shared by two groups counts in the first.

`worker`: the production server over 201 + `--extra-symbols` instruments ticking at 1 Hz (every 5 s when traced)
with `--alerts` active alerts (`bench/alerts.py`'s server, without clients): the worker's RSS from /proc once the
alert index is loaded,
then every 5 s for `--settle` seconds (the hot caches refresh meanwhile). `--trace N` runs it with tracemalloc
(N frames; slower, and the traces' own memory inflates the RSS) and prints what the live Python objects were
allocated by, grouped by the innermost frame in the app's code. With clients, `bench/alerts.py e2e` reports the RSS too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracemalloc import Snapshot

ROOT = Path(__file__).resolve().parent.parent
_PLUMBING = ("backend/mysql_wire.py", "backend/mysql_fastpath.py", "backend/db.py", "controller/sql.py")
GROUPS = [
    ("gevent (monkey-patched)", ["gevent.monkey"]),
    ("Flask, Werkzeug, Jinja2", ["flask", "werkzeug.routing"]),
    ("Flask-SocketIO, python-socketio, Engine.IO, simple-websocket", ["flask_socketio", "simple_websocket"]),
    ("mysql-connector-python", ["mysql.connector"]),
    ("pydantic, pydantic-settings", ["pydantic", "pydantic_settings"]),
    ("PyJWT, cryptography, Flask-JWT-Extended", ["flask_jwt_extended", "cryptography.x509"]),
    ("requests, urllib3", ["requests"]),
    ("redis", ["redis"]),
    ("google-auth", ["google.oauth2.id_token", "google.auth.transport.requests"]),
    ("Flask-Limiter, limits", ["flask_limiter"]),
    ("prometheus-client", ["prometheus_client"]),
    ("numpy (the simulator's random walk)", ["numpy"]),
    ("protobuf (the Upstox feed)", ["google.protobuf.message"]),
    ("feedparser", ["feedparser"]),
    ("holidays", ["holidays"]),
    ("PyYAML (the OpenAPI document)", ["yaml"]),
    ("the app's modules (routes, services, controller, utils, backend)", ["backend.app"]),
]


def rss_mib(pid: int | str = "self") -> float:
    """A process's resident memory (this one's by default)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def imports() -> None:
    sys.path.insert(0, str(ROOT))
    start = previous = rss_mib()
    print("command: python bench/memory.py imports")
    print(f"{'interpreter':68s} {start:6.1f} MiB")
    for name, modules in GROUPS:
        for module in modules:
            importlib.import_module(module)
            if module == "gevent.monkey":
                sys.modules["gevent.monkey"].patch_all()
        now = rss_mib()
        print(f"{'+ ' + name:68s} {now - previous:+6.1f} MiB")
        previous = now
    os.environ.setdefault("DATABASE_URL", "mysql://app:app@127.0.0.1:1/unused")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from backend.app import create_app

    create_app()
    now = rss_mib()
    print(f"{'+ create_app() (settings, extensions, blueprints, OpenAPI document)':68s} {now - previous:+6.1f} MiB")
    print(f"{'total after create_app()':68s} {now:6.1f} MiB; {len(sys.modules)} modules")


def worker(args: argparse.Namespace) -> None:
    import signal  # imported here: the import-time figures must not include them
    import tempfile
    import time
    import tracemalloc

    sys.path.insert(0, str(ROOT / "bench"))
    from alerts import alerts_server
    from harness import children

    print(
        f"command: python bench/memory.py worker --extra-symbols {args.extra_symbols} --alerts {args.alerts} "
        f"--settle {args.settle} --trace {args.trace}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        app = "backend.wsgi:app"
        if args.trace:
            os.environ.update(PYTHONTRACEMALLOC=str(args.trace), BENCH_TRACE_SNAPSHOT=f"{tmp}/snapshot")
            app = "bench.traced_app:app"
        tick_s = 5 if args.trace else 1  # tracing makes every allocation slow: fewer ticks keep the worker responsive
        with alerts_server(Path(tmp), args.extra_symbols, args.alerts, 0, 200, app, tick_s) as run:
            (pid,) = children(run.server.pid)
            print(f"{len(run.symbols):,} stocks ticking every {tick_s} s, {run.loaded:,} active alerts loaded")
            samples = [rss_mib(pid)]
            for _ in range(args.settle // 5):
                time.sleep(5)
                samples.append(rss_mib(pid))
            print("worker RSS (MiB), every 5 s from the index's load: " + " ".join(f"{v:.1f}" for v in samples))
            print(f"worker RSS: {samples[-1]:.1f} MiB at the end, {max(samples):.1f} MiB at most")
            if args.trace:
                os.kill(pid, signal.SIGUSR2)
                snapshot_path = Path(tmp) / "snapshot"
                while not snapshot_path.exists():
                    time.sleep(0.5)
                print_traces(tracemalloc.Snapshot.load(str(snapshot_path)), args.top)


def print_traces(snapshot: Snapshot, top: int) -> None:
    """The live Python allocations grouped by where the app's own code made them (the innermost frame in the
    repository) and the innermost frame (in a library, or the same); imports as one group."""
    groups: dict[tuple[str, str], list[int]] = {}
    for trace in snapshot.traces:
        frames = list(reversed(trace.traceback))  # innermost first
        names = [f"{_short(frame.filename)}:{frame.lineno}" for frame in frames]
        if any(frame.filename.startswith("<frozen importlib") for frame in frames):
            key = ("(imports)", "")
        else:
            ours = next(
                (name for frame, name in zip(frames, names, strict=True) if _ours(frame.filename)), "(no app frame)"
            )
            key = (ours, names[0] if names[0] != ours else "")
        group = groups.setdefault(key, [0, 0])
        group[0] += trace.size
        group[1] += 1
    total = sum(size for size, _ in groups.values())
    print(f"traced (live Python allocations): {total / 2**20:.1f} MiB in {sum(n for _, n in groups.values()):,} blocks")
    print(f"{'MiB':>7} {'blocks':>9}  innermost app frame  [innermost frame]")
    for (ours, inner), (size, count) in sorted(groups.items(), key=lambda item: -item[1][0])[:top]:
        print(f"{size / 2**20:7.2f} {count:9,d}  {ours}" + (f"  [{inner}]" if inner else ""))


def _ours(filename: str) -> bool:
    """The app's own code, apart from the query plumbing (the code that reads a query keeps its values)."""
    return (
        filename.startswith(str(ROOT) + "/")
        and not any(part in filename for part in ("/.venv/", "/bench/"))
        and not filename.endswith(_PLUMBING)
    )


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main() -> None:
    parser = argparse.ArgumentParser()
    parts = parser.add_subparsers(dest="part")
    parts.add_parser("imports", help="RSS added by each group of imports (the default)")
    running = parts.add_parser("worker", help="a running worker's RSS with a universe and alerts loaded")
    running.add_argument("--extra-symbols", type=int, default=9800, help="instruments beyond the 201 of the universe")
    running.add_argument("--alerts", type=int, default=100_000, help="active alerts loaded by the server")
    running.add_argument("--settle", type=int, default=30, help="seconds of RSS samples after the index is loaded")
    running.add_argument("--trace", type=int, default=0, help="tracemalloc frames, e.g. 30 (0: no tracing)")
    running.add_argument("--top", type=int, default=40, help="tracebacks printed with --trace")
    args = parser.parse_args()
    worker(args) if args.part == "worker" else imports()


if __name__ == "__main__":
    main()
