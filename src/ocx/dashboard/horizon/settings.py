"""Django settings: Horizon's, pointed at OCX (read from the part's ``horizon.json``).

The dashboard part writes ``horizon.json`` (see ``DashboardSettings.horizon_config``) and names
it in ``OCX_DASHBOARD_CONFIG``; everything that differs from Horizon's defaults is set here,
after Horizon's own settings module has run. The OCX plugin's "enabled" files are added to
Horizon's ``local.enabled`` package path first, which is how Horizon finds plugins.
"""

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openstack_dashboard.local import enabled as _local_enabled

_local_enabled.__path__.append(str(Path(__file__).parent / "enabled"))

from openstack_dashboard import settings as _horizon  # noqa: E402

globals().update({name: value for name, value in vars(_horizon).items() if name.isupper()})

_CONFIG: dict[str, Any] = json.loads(Path(os.environ["OCX_DASHBOARD_CONFIG"]).read_text())
_DATA = Path(_CONFIG["data_dir"])

DEBUG = False
SECRET_KEY = _CONFIG["secret_key"]
ALLOWED_HOSTS = [urlsplit(_CONFIG["public_url"]).hostname or "localhost"]

# Identity: the exchange operator's, whose catalog has the exchange's proxy in region ocx;
# other landlords' Keystones are offered on the sign-in page for their own users.
OPENSTACK_KEYSTONE_URL = _CONFIG["keystone_url"]
AVAILABLE_REGIONS = [tuple(pair) for pair in _CONFIG["regions"]]
DEFAULT_SERVICE_REGIONS = {"*": _CONFIG["default_region"]}
# Horizon's own backend, except that a session starts in DEFAULT_SERVICE_REGIONS' region when
# the identity signed in at is listed there too (see market/backend.py).
AUTHENTICATION_BACKENDS = ("ocx.dashboard.horizon.market.backend.KeystoneBackend",)
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = "Default"
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"
OCX_EXCHANGE_URL = _CONFIG["exchange_url"]
# OCX compute does not serve Nova's os-simple-tenant-usage; usage is the market's (Usage panel).
OPENSTACK_USE_SIMPLE_TENANT_USAGE = False

# Each distinct policy question once per request (Horizon asks for every action of every row).
POLICY_CHECK_FUNCTION = "ocx.dashboard.horizon.market.policy.check"

# OCX's compute boots a server from its image; a boot volume is the customer's explicit choice.
LAUNCH_INSTANCE_DEFAULTS = {**_horizon.LAUNCH_INSTANCE_DEFAULTS, "create_volume": False}

# Federated sign-in: "credentials" (a local user's password) or a home landlord (WebSSO).
WEBSSO_ENABLED = bool(_CONFIG["websso"])
WEBSSO_CHOICES = (
    ("credentials", "Password at this exchange"),
    *((key, f"Sign in with {label}") for key, label, _idp, _protocol in _CONFIG["websso"]),
)
WEBSSO_IDP_MAPPING = {key: (idp, protocol) for key, _label, idp, protocol in _CONFIG["websso"]}
WEBSSO_INITIAL_CHOICE = "credentials"
WEBSSO_KEYSTONE_URL = OPENSTACK_KEYSTONE_URL
# The token comes from this exchange's identity only (never from a Referer's say-so).
WEBSSO_USE_HTTP_REFERER = False

# Sessions: server-side files (the token never travels in a cookie or a URL), shared by
# gunicorn's workers, ending at logout, at SESSION_TIMEOUT and when the token expires.
SESSION_ENGINE = "django.contrib.sessions.backends.file"
SESSION_FILE_PATH = str(_DATA / "sessions")
Path(SESSION_FILE_PATH).mkdir(mode=0o700, parents=True, exist_ok=True)
SESSION_TIMEOUT = _CONFIG["session_timeout"]
SESSION_COOKIE_AGE = SESSION_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = bool(_CONFIG["secure_cookies"])
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Static files are collected and compressed once by scripts/install-horizon.sh and served
# by the part's front.
STATIC_ROOT = _CONFIG["static_root"]
COMPRESS_ROOT = STATIC_ROOT
COMPRESS_OFFLINE = True

# A confirmation (subscribed, cancelled, extended) stays until the user dismisses it.
HORIZON_CONFIG = _horizon.HORIZON_CONFIG
HORIZON_CONFIG["auto_fade_alerts"] = {"delay": 3000, "fade_duration": 1500, "types": ["alert-info"]}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"openstack_auth": {"level": "INFO"}},
}
