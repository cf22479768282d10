"""Graceful shutdown on SIGTERM: stop the background services, give up leadership, close sockets and the pool.

The entry points install the handler once the app is built. It chains to the handler installed before
it: under gunicorn that is the worker's own (stop accepting, finish in-flight requests for up to the
graceful timeout); with the default disposition (the eventlet dev server) the signal is raised again
once the shutdown is done, so the process ends as it would have. The work itself runs in a background
task, since blocking calls inside a signal handler would stall the event loop; a worker that has
nothing left to serve and exits meanwhile waits for it at exit (up to `EXIT_WAIT_S`).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from typing import Any

from flask import Flask

from backend.extensions import socketio
from services.runtime.lifecycle import stop_services

log = logging.getLogger(__name__)
EXIT_WAIT_S = 10.0
_started = threading.Event()
_finished = threading.Event()


def install(app: Flask) -> None:
    """Run `graceful_shutdown(app)` on SIGTERM, before (or, for the default action, after) the previous handler."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        if callable(previous):
            previous(signum, frame)
            socketio.start_background_task(graceful_shutdown, app)
        else:
            socketio.start_background_task(_shutdown_then_reraise, app, signum, previous)

    signal.signal(signal.SIGTERM, on_sigterm)
    atexit.register(_wait_for_shutdown)


def graceful_shutdown(app: Flask) -> None:
    """Stop schedulers and the writer, release the leader lock, disconnect Socket.IO clients, close the pool."""
    if _started.is_set():
        return
    _started.set()
    try:
        log.info("SIGTERM: shutting down (pid %d)", os.getpid())
        stop_services()
        socketio.server.eio.disconnect()  # every WebSocket of this process; clients reconnect elsewhere
        socketio.server.shutdown()
        app.extensions["db"].close()
        log.info("shutdown complete: leadership released, sockets and pool closed")
    finally:
        _finished.set()


def _wait_for_shutdown() -> None:
    if _started.is_set():
        _finished.wait(EXIT_WAIT_S)


def _shutdown_then_reraise(app: Flask, signum: int, previous: Any) -> None:
    graceful_shutdown(app)
    signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
    os.kill(os.getpid(), signum)
