"""The dashboard: OpenStack Horizon serving OCX, with the market inside (docs/dashboard.md).

Horizon is a Django application with its own pinned dependencies, so it runs from its own
virtual environment (``scripts/install-horizon.sh`` makes ``.venv-horizon``) under gunicorn,
on a Unix socket in the landlord's data directory. The part itself is a small ASGI front on the
part's port: it serves Horizon's collected static files, adds the site's security headers and
relays everything else to Horizon. ``horizon/`` is the code that runs inside Horizon: the
Django settings and the OCX plugin (marketplace, subscriptions, leases, usage, invoices).
"""
