"""The gunicorn worker: gevent's own WSGI server (pywsgi) in gunicorn's gevent worker.

gunicorn's default gevent worker parses HTTP with gunicorn's parser; serving the same bare Flask app,
gevent's pywsgi handler did ~40 % more requests per second on this machine (docs/BENCHMARKS.md).
WebSockets work the same (simple-websocket takes the socket from the gevent environment). pywsgi keeps
an idle keep-alive connection open forever, so the handler closes one that sends no request line
within gunicorn's `keepalive` seconds, as gunicorn's own worker does.
"""

from __future__ import annotations

from gevent import Timeout
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler


class _Handler(PyWSGIHandler):
    idle_timeout_s = 5.0

    def read_requestline(self) -> str:
        """The next request line, or "" (close the connection) when none starts within the idle timeout."""
        with Timeout(self.idle_timeout_s, False):
            return super().read_requestline()
        return ""


class Worker(GeventPyWSGIWorker):
    """GeventPyWSGIWorker whose connections close after `keepalive` idle seconds."""

    wsgi_handler = _Handler

    def run(self) -> None:
        _Handler.idle_timeout_s = float(self.cfg.keepalive)
        super().run()
