"""Production entry point: `gunicorn -c gunicorn.conf.py backend.wsgi:app` (gevent worker).

gunicorn's gevent worker monkey patches before importing this module, and on SIGTERM runs the shutdown
sequence (services/runtime/shutdown.py) that `register_shutdown` adds the app's steps to. A configuration
error stops the worker with gunicorn's boot-error code, which stops gunicorn instead of respawning the worker.
"""

from gunicorn.arbiter import Arbiter

from backend.cli import build_app
from services.runtime.lifecycle import register_shutdown, start_services

app = build_app(exit_code=Arbiter.WORKER_BOOT_ERROR)
start_services(app)
register_shutdown(app)
