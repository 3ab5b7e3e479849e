"""Outbound HTTP between OCX's own parts and tools: the httpx clients' shared settings.

OCX's servers close a keep-alive connection that has been idle for ``keep_alive_timeout``
(5 s by default, :mod:`ocx.common.settings`). httpx keeps an idle connection for 5 s as
well, so a request sent on a pooled connection just as the server closes it fails with a
``ReadError`` (seen when the suite's landlords were wired under load). These clients drop an
idle connection well before any OCX server would.
"""

from __future__ import annotations

from typing import Any

import httpx

KEEPALIVE_EXPIRY = 2.0  # seconds; below every OCX server's keep_alive_timeout (at least 5 s)
LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY
)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose pooled connections expire before the server's."""
    if "transport" not in kwargs:
        kwargs.setdefault("limits", LIMITS)
    return httpx.AsyncClient(**kwargs)


def client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose pooled connections expire before the server's."""
    if "transport" not in kwargs:
        kwargs.setdefault("limits", LIMITS)
    return httpx.Client(**kwargs)
