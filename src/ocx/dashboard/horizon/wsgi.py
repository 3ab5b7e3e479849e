"""Horizon's WSGI application under OCX's settings (Horizon's own wsgi.py forces its own)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
