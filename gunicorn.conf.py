"""gunicorn settings: settings only, nothing is imported from the app.

`gunicorn -c gunicorn.conf.py backend.wsgi:app`. The gevent worker serves HTTP and the Socket.IO
WebSockets; several workers (WEB_CONCURRENCY > 1) need REDIS_URL so that emits and ticks reach
every worker's clients (see docs/DEPLOY.md). On SIGTERM each worker runs the app's shutdown sequence
(backend/gunicorn_worker.py): it stops accepting, stops its schedulers and gives up leadership, closes its
WebSockets and idle connections at once, then finishes in-flight requests for up to GUNICORN_GRACEFUL_TIMEOUT
seconds (keep it below the platform's shutdown delay: 30 s on Render); an idle worker exits within seconds.
"""

import os

_host = os.environ.get("HOST", "0.0.0.0" if os.environ.get("RENDER") else "127.0.0.1")
bind = f"{_host}:{os.environ.get('PORT', '5000')}"
worker_class = "backend.gunicorn_worker.Worker"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
# The client's address behind a proxy is the X-Forwarded-For header; %(h)s is the proxy's.
access_log_format = '%(h)s fwd=%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
control_socket_disable = True  # gunicorn 27 otherwise writes a control socket under ~/.gunicorn
