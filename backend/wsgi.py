"""Production entry point: `gunicorn -c gunicorn.conf.py backend.wsgi:app` (gevent worker).

gunicorn's gevent worker monkey patches before importing this module.
"""

from backend.cli import build_app
from services.runtime import start_services

app = build_app()
start_services(app)
