"""The exchange API as the signed-in user (the ``ocx market`` CLI's calls, from Django).

The token is the one in the user's server-side session; it goes to the exchange in a header,
never in a URL. The exchange is found in the token's catalog (service type ``exchange``);
a user who signed in at another landlord's identity browses the exchange the dashboard
belongs to, and is asked to sign in at the exchange to subscribe or see bills.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from openstack_dashboard.api import base

TIMEOUT = 30.0
LANDLORD_PREFIX = "landlord-"


class ExchangeError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def catalog_url(request: Any) -> str | None:
    """The exchange's public URL in the session's catalog, in whichever region it is listed:
    a session at the exchange works in the proxy's region ``ocx``, and Horizon's own lookups
    (``is_service_enabled``, ``url_for``) read the session's region only."""
    service = base.get_service_from_catalog(request.user.service_catalog, "exchange") or {}
    for endpoint in service.get("endpoints", []):
        if endpoint.get("interface", "public") == "public" and endpoint.get("url"):
            return str(endpoint["url"]).rstrip("/")
    return None


def signed_in_at_exchange(request: Any) -> bool:
    """Whether the session's token is the exchange's own (one it accepts)."""
    return catalog_url(request) is not None


def is_operator(request: Any) -> bool:
    """Admin on the exchange operator's own admin project (the exchange decides the same)."""
    user = request.user
    return bool(
        signed_in_at_exchange(request)
        and user.project_name == "admin"
        and "admin" in {role["name"] for role in user.roles}
    )


def landlord_of(request: Any) -> str | None:
    """The landlord a federated administrator signed in for: the exchange's identity gives a
    landlord's administrators (as their own identity says) the project ``landlord-<name>``."""
    project = request.user.project_name or ""
    if not signed_in_at_exchange(request) or not project.startswith(LANDLORD_PREFIX):
        return None
    return str(project.removeprefix(LANDLORD_PREFIX))


def url(request: Any) -> str:
    return catalog_url(request) or str(settings.OCX_EXCHANGE_URL).rstrip("/")


def _headers(request: Any) -> dict[str, str]:
    if not signed_in_at_exchange(request):
        return {}
    return {"X-Auth-Token": request.user.token.id}


def _answer(response: requests.Response) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        raise ExchangeError(response.status_code, message)
    if response.headers.get("content-type", "").startswith("text/csv"):
        return response.text
    return response.json()


def get(request: Any, path: str, **params: Any) -> Any:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    answer = requests.get(
        url(request) + path, params=clean, headers=_headers(request), timeout=TIMEOUT
    )
    return _answer(answer)


def send(request: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(
        method, url(request) + path, json=body, headers=_headers(request), timeout=TIMEOUT
    )
    return _answer(answer)
