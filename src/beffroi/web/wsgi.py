"""WSGI entry point (``beffroi serve`` runs it under waitress).

The Django application inside the request size limits (``web/request_limits.py``), outermost,
so that a body over its address's limit is refused before any of Django reads it.
"""

import os

from django.core.wsgi import get_wsgi_application

from beffroi.web.request_limits import RequestSizeLimits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
django_application = get_wsgi_application()
application = RequestSizeLimits(django_application)
