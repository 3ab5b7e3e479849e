"""Code that runs inside Horizon's own venv (Django): settings, and the OCX plugin.

Nothing here is imported by OCX's own processes; the dashboard part runs it under gunicorn
with ``DJANGO_SETTINGS_MODULE=ocx.dashboard.horizon.settings``.
"""
