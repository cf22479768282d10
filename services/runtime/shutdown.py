"""The shutdown sequence: everything long-lived in a process stops in one ordered sequence.

On SIGTERM the process runs the steps registered here, stage by stage (under gunicorn the worker,
backend/gunicorn_worker.py, starts it; the eventlet dev server uses `install_signal_handler`):

1. `INTAKE`: stop taking new work. The HTTP server stops accepting connections and every response
   from now on carries `Connection: close`; `stopping()` is true from here on, so new and modified
   orders get 503 SERVICE_UNAVAILABLE with `details.reason: "shutting_down"` and a `Retry-After`
   (the live prices they need stop with the next stage).
2. `WORK`: stop background work: the schedulers, the tick bus, the order matcher, the writer and
   leadership (`start_services` in services/runtime/lifecycle.py registers them).
3. `STREAMS`: close long-lived connections: Socket.IO/WebSocket streams, HTTP connections waiting
   for a request. The server then finishes the requests in flight, and calls `finish()`:
4. `RESOURCES`: release what those requests still used: the database pool.

Adding a piece of long-lived work (a scan process pool, a crawler, an upstream feed connection):
where it is started, register how it stops, in the stage it belongs to:

    shutdown.register("scan processes", shutdown.WORK, pool.stop)

A step is a callable without arguments. It runs once, in a background task (never inside the signal
handler), after every step of the earlier stages and after the steps of its own stage registered
before it. It may block, but briefly: an idle process must exit within 5 s of SIGTERM. An exception is
logged and the sequence goes on. Registering a name again replaces its step (tests start and stop
services many times); `unregister(name)` removes one.

This module imports nothing of the app: gunicorn's master loads the worker class (and so this module)
before it forks, and must stay free of the app's imports.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from utils.errors import ShuttingDown

log = logging.getLogger(__name__)
INTAKE, WORK, STREAMS, RESOURCES = "intake", "work", "streams", "resources"
STAGES = (INTAKE, WORK, STREAMS, RESOURCES)
FINISH_WAIT_S = 10.0  # how long `finish` waits for the first stages when a step hangs


class ShutdownSequence:
    """Named stop steps in stages; `begin` runs the first three stages, `finish` the last, each once."""

    def __init__(self) -> None:
        self._steps: dict[str, tuple[str, Callable[[], Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._finished = False
        self._begun = threading.Event()  # the first three stages have run
        self._done: list[str] = []

    def register(self, name: str, stage: str, stop: Callable[[], Any]) -> None:
        """Run `stop()` in `stage` of the shutdown (replacing a step registered under `name`)."""
        if stage not in STAGES:
            raise ValueError(f"unknown shutdown stage {stage!r}; one of {STAGES}")
        with self._lock:
            self._steps.pop(name, None)
            self._steps[name] = (stage, stop)

    def unregister(self, name: str) -> None:
        """Forget the step registered under `name` (nothing if there is none)."""
        with self._lock:
            self._steps.pop(name, None)

    def stopping(self) -> bool:
        """True once the shutdown has begun."""
        return self._stopping

    def refuse_new_work(self) -> None:
        """Raise ShuttingDown (503, reason "shutting_down", Retry-After) once the shutdown has begun."""
        if self._stopping:
            raise ShuttingDown()

    def begin(self) -> None:
        """Stop taking work, stop background work, close streams (once; later calls return at once)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        log.info("shutting down (pid %d)", os.getpid())
        try:
            self._done += self._run(INTAKE, WORK, STREAMS)
        finally:
            self._begun.set()

    def finish(self, wait_s: float = FINISH_WAIT_S) -> None:
        """After the last request: make sure `begin` has run (waiting up to `wait_s` for it), then release
        resources (once)."""
        self.begin()
        self._begun.wait(wait_s)
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self._done += self._run(RESOURCES)
        log.info("shutdown complete: %s stopped", ", ".join(self._done) or "nothing")

    def _run(self, *stages: str) -> list[str]:
        with self._lock:
            steps = [(name, stop) for stage in stages for name, (at, stop) in self._steps.items() if at == stage]
        done = []
        for name, stop in steps:
            started = time.monotonic()
            try:
                stop()
            except Exception:  # one broken step must not keep the others (or the exit) from happening
                log.exception("shutdown step %r failed", name)
                continue
            done.append(name)
            log.debug("shutdown step %r done in %.3f s", name, time.monotonic() - started)
        return done


_sequence = ShutdownSequence()
register = _sequence.register
unregister = _sequence.unregister
stopping = _sequence.stopping
refuse_new_work = _sequence.refuse_new_work
begin = _sequence.begin
finish = _sequence.finish


def install_signal_handler(spawn: Callable[..., Any]) -> None:
    """For servers without their own shutdown (the eventlet dev server): on SIGTERM run the whole sequence
    in a task made by `spawn` (`socketio.start_background_task`), then end as SIGTERM would have."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        spawn(_finish_then_reraise, signum, previous)

    signal.signal(signal.SIGTERM, on_sigterm)


def _finish_then_reraise(signum: int, previous: Any) -> None:
    finish()
    signal.signal(signum, previous if callable(previous) else signal.SIG_DFL)
    os.kill(os.getpid(), signum)
