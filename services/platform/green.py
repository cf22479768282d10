"""Cooperative yielding for long CPU-bound work under gevent/eventlet (a no-op switch under threads)."""

from backend.extensions import socketio


def pause() -> None:
    """Let other green threads (requests, the fan-out) run before the work goes on."""
    socketio.sleep(0)
