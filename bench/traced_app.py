"""Benchmark server entry point: the production app, whose worker writes a tracemalloc snapshot on SIGUSR2.

`gunicorn -c gunicorn.conf.py bench.traced_app:app` with PYTHONTRACEMALLOC=<frames> (tracing from the interpreter's
start, inherited by the forked worker) and BENCH_TRACE_SNAPSHOT=<path>, as `bench/memory.py worker --trace` runs it.
The snapshot is written to `<path>.part`, then renamed to `<path>`.
"""

import gc
import os
import signal
import tracemalloc

from backend.wsgi import app


def _dump(*_: object) -> None:
    path = os.environ["BENCH_TRACE_SNAPSHOT"]
    gc.collect()
    tracemalloc.take_snapshot().dump(path + ".part")
    os.replace(path + ".part", path)


signal.signal(signal.SIGUSR2, _dump)
__all__ = ["app"]
