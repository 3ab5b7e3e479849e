"""Constrained delegations the proxy asks for on the customer's behalf.

A delegation comes from the identity of the landlord that holds a resource (a volume, an
image), asked with the customer's own token there (the proxy's token translation), for the
presenter key of the compute that will use it: that resource only, usable only with a proof
signed by that compute's key, for a few minutes. The proxy never holds a token that works at
the compute's landlord for the resource.
"""

from __future__ import annotations

from typing import Any

import httpx

from ocx.clients.k2k import identity_base
from ocx.common import errors
from ocx.proxy.errors import unavailable
from ocx.proxy.openstack.call import OsCall, send_or_503
from ocx.proxy.tokens import Backend

TTL = 900  # the longest a landlord's identity grants


async def presenter(call: OsCall, compute: Backend) -> dict[str, Any]:
    """The public key (JWK) of the compute at ``compute``'s landlord."""
    answer = await send_or_503(call, compute, "GET", "/v2.1/os-ocx-presenter", query="")
    if answer.status_code != 200:
        raise errors.ServiceUnavailable(
            f"The compute of {compute.landlord} gave no presenter key ({answer.status_code})."
        )
    jwk: dict[str, Any] = answer.json()["presenter"]["jwk"]
    return jwk


async def grant(call: OsCall, compute: Backend, holder: Backend, what: dict[str, str]) -> str:
    """A delegation from ``holder``'s identity for ``compute``'s key, for ``what``
    (``{"volume_id": …}`` or ``{"image_id": …}``): its token."""
    jwk = await presenter(call, compute)
    identity = holder.endpoints.get("identity")
    if identity is None:
        raise errors.ServiceUnavailable(f"{holder.landlord} lists no identity service.")
    body = {"delegation": {**what, "presenter_jwk": jwk, "ttl": TTL}}
    try:
        granted = await call.svc.identity.post(
            identity_base(identity) + "/v3/OS-OCX/delegations",
            json=body,
            headers={"X-Auth-Token": holder.token or ""},
        )
    except httpx.HTTPError as exc:
        raise unavailable(holder.landlord, f"delegation failed: {type(exc).__name__}") from exc
    if granted.status_code not in (200, 201):
        kind, rid = next(iter(what.items()))
        raise errors.from_status(
            granted.status_code if granted.status_code < 500 else 503,
            f"{holder.landlord} refused a delegation for {kind[:-3]} {rid}: {granted.text[:300]}",
        )
    return str(granted.json()["delegation"]["token"])
