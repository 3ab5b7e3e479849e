"""Horizon's WSGI application under OCX's settings (Horizon's own wsgi.py forces its own).

gunicorn loads it once, in its master (``--preload``), and forks the workers from there;
``warm`` does first what each worker otherwise did at its first page, 2-5 s under load (and a
user's second page could land on the other, still cold, worker): Horizon's dashboards and URL
table, every service's policy rules, and the compiled templates.
"""

import logging
import time
from pathlib import Path

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
log = logging.getLogger("ocx.dashboard")


def _templates() -> list[str]:
    """The names of the HTML templates of every installed app and template directory."""
    from django.apps import apps
    from django.template import engines

    roots = [Path(d) for d in engines["django"].engine.dirs]
    roots += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    names = {
        str(path.relative_to(root))
        for root in roots
        if root.is_dir()
        for path in root.rglob("*.html")
    }
    return sorted(names)


def warm() -> None:
    from django.template import TemplateSyntaxError, loader
    from django.urls import get_resolver
    from openstack_auth import policy

    began = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018  (Horizon's autodiscovery: dashboards, panels)
    policy._get_enforcer()
    compiled = 0
    for name in _templates():
        try:
            loader.get_template(name)  # the cached loader keeps it, and the fork shares it
        except (TemplateSyntaxError, LookupError, ImportError, OSError, ValueError):
            continue  # a template of a panel not enabled here; its worker would fail the same
        compiled += 1
    log.warning("Horizon warmed in %.1fs (%d templates)", time.perf_counter() - began, compiled)


warm()
