"""WSGI entry point: `gunicorn erpbridge.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpbridge.settings")

application = get_wsgi_application()
