"""Production entry point: `gunicorn -c gunicorn.conf.py backend.wsgi:app` (gevent worker).

gunicorn's gevent worker monkey patches before importing this module and has installed its signal
handlers; `shutdown.install` adds the app's graceful shutdown to its SIGTERM handling.
"""

from backend.cli import build_app
from services.runtime import shutdown
from services.runtime.lifecycle import start_services

app = build_app()
start_services(app)
shutdown.install(app)
