"""Keystone-to-Keystone on the customer's behalf: a token at a service provider, from the
customer's home token, with no credentials of the proxy's own (what keystoneauth1's
``Keystone2Keystone`` plugin does, asynchronously).

1. ``POST {home}/v3/auth/OS-FEDERATION/saml2/ecp`` with the home token, scoped to the service
   provider: a signed, single-use SAML assertion (five minutes at most) in a SOAP envelope;
2. ``POST`` it to the provider's ``sp_url``: an unscoped token there (``methods: mapped``);
3. ``GET {sp}/v3/auth/projects``: the customer's projects there;
4. rescope with the ``token`` method to one of them: a scoped token whose catalog names the
   provider's services, and which never outlives the home token.

Every step's failure is classified: the provider refusing the customer (400, 401, 403, 404),
a URL that cannot be used, or
having no project or no service for them is :class:`~ocx.clients.errors.Absent` (the
landlord is simply not part of this customer's account); anything else is
:class:`~ocx.clients.errors.Unreachable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from ocx.clients.errors import Absent, Unreachable
from ocx.common import errors
from ocx.parts import PROXY_REGION

PAOS = "application/vnd.paos+xml"
# A provider refusing the customer, or a request about it that can never work (400: a
# provider registered wrongly), is "nothing there", not an outage.
REFUSED = (400, 401, 403, 404)
OBJECT_STORE = "object-store"


@dataclass(frozen=True)
class ServiceProvider:
    id: str
    auth_url: str
    sp_url: str


@dataclass(frozen=True)
class Remote:
    """The customer's token at a landlord, and where its services are (by catalog type)."""

    token: str
    storage_url: str
    expires_at: float
    project_id: str
    endpoints: Mapping[str, str] = field(default_factory=dict)


def catalog_urls(catalog: Any) -> dict[str, str]:
    """The public URL of each service type in a token's catalog, never a proxy's (region ocx)."""
    found: dict[str, str] = {}
    for service in catalog if isinstance(catalog, list) else []:
        if not isinstance(service, dict) or not isinstance(service.get("type"), str):
            continue
        for endpoint in service.get("endpoints") or []:
            if not isinstance(endpoint, dict) or not isinstance(endpoint.get("url"), str):
                continue
            if endpoint.get("interface") == "public" and endpoint.get("region") != PROXY_REGION:
                found.setdefault(str(service["type"]), str(endpoint["url"]))
    return found


def identity_base(auth_url: str) -> str:
    """``http://sp/v3/OS-FEDERATION/…/auth`` → ``http://sp``."""
    base, found, _ = auth_url.partition("/v3/")
    return base if found else auth_url.rstrip("/").removesuffix("/v3")


def choose_project(projects: Any) -> dict[str, Any] | None:
    """The project to scope to: the first enabled one by name (subscriptions will say later)."""
    enabled = [p for p in projects if isinstance(p, dict) and p.get("enabled", True)]
    return min(enabled, key=lambda p: (str(p.get("name")), str(p.get("id"))), default=None)


class Federation:
    def __init__(self, client: httpx.AsyncClient, home_identity_url: str):
        self.client = client
        self.home = home_identity_url.rstrip("/")

    async def token_at(self, home_token: str, sp: ServiceProvider) -> Remote:
        envelope = await self._assertion(home_token, sp)
        unscoped = await self._present(envelope, sp)
        base = identity_base(sp.auth_url)
        projects = await self._json(sp, "GET", base + "/v3/auth/projects", unscoped)
        project = choose_project(projects.get("projects") or [])
        if project is None:
            raise Absent(sp.id, "no project there")
        return await self._rescope(sp, base, unscoped, str(project["id"]))

    async def _assertion(self, home_token: str, sp: ServiceProvider) -> bytes:
        body = {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": home_token}},
                "scope": {"service_provider": {"id": sp.id}},
            }
        }
        url = self.home + "/v3/auth/OS-FEDERATION/saml2/ecp"
        try:
            resp = await self._send(sp, "POST", url, home_token, json=body)
        except Absent as exc:
            if "401" in exc.reason:  # the home token itself is no longer good
                raise errors.Unauthorized("The token has been revoked or has expired.") from exc
            raise
        return resp.content

    async def _present(self, envelope: bytes, sp: ServiceProvider) -> str:
        resp = await self._send(
            sp, "POST", sp.sp_url, None, content=envelope, headers={"Content-Type": PAOS}
        )
        token = resp.headers.get("x-subject-token")
        if not token:
            raise Unreachable(sp.id, "federated login gave no token")
        return token

    async def _rescope(self, sp: ServiceProvider, base: str, unscoped: str, pid: str) -> Remote:
        body = {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": unscoped}},
                "scope": {"project": {"id": pid}},
            }
        }
        resp = await self._send(sp, "POST", base + "/v3/auth/tokens", unscoped, json=body)
        token = resp.headers.get("x-subject-token")
        doc = _json_of(sp, resp).get("token") or {}
        urls = catalog_urls(doc.get("catalog"))
        if not urls:
            raise Absent(sp.id, "no service there")
        if not token or "expires_at" not in doc:
            raise Unreachable(sp.id, "rescoping gave no token")
        expires = datetime.fromisoformat(str(doc["expires_at"]).replace("Z", "+00:00"))
        storage = urls.get(OBJECT_STORE, "")
        return Remote(token, storage, expires.timestamp(), pid, urls)

    async def _json(self, sp: ServiceProvider, method: str, url: str, token: str) -> Any:
        return _json_of(sp, await self._send(sp, method, url, token))

    async def _send(
        self, sp: ServiceProvider, method: str, url: str, token: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["X-Auth-Token"] = token
        for attempt in range(2):
            try:
                resp = await self.client.request(method, url, headers=headers, **kwargs)
                break
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise Absent(sp.id, "its URL cannot be used") from exc
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                # A kept-alive connection the identity closed as it was reused (its idle
                # timeout and the pool's are both 5 s): over 100 landlords some federation hit
                # it and was refused for unreachable_ttl. Every step may be sent again.
                if attempt:
                    raise Unreachable(sp.id, f"federation failed: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise Unreachable(sp.id, f"federation failed: {type(exc).__name__}") from exc
        if resp.status_code in REFUSED:
            raise Absent(sp.id, f"federation refused ({resp.status_code})")
        if resp.status_code >= 300:
            raise Unreachable(sp.id, f"federation failed ({resp.status_code})")
        return resp


def _json_of(sp: ServiceProvider, resp: httpx.Response) -> Any:
    try:
        doc = resp.json()
    except ValueError:
        raise Unreachable(sp.id, "federation answered garbage") from None
    if not isinstance(doc, dict):
        raise Unreachable(sp.id, "federation answered garbage")
    return doc
