"""The customer's side of attaching another landlord's volume to a server.

    from ocx.clients.compute import attach_remote
    attach_remote(compute_url, home_token, server_id,
                  volume_id=V, landlord="stor", identity_url=B_IDENTITY, volume_url=B_CINDER,
                  volume_token=token_at_B)

It asks the compute for its presenter key, asks the volume's landlord for a delegation bound to
that key (for that volume alone, for ``ttl`` seconds), and hands the delegation to the compute
with the volume reference. The compute never sees a token that works anywhere else.

Booting from another landlord's image is the same: :func:`delegate_image` at the image's
landlord, then :func:`remote_image`'s keys beside ``imageRef`` in the boot.
"""

from __future__ import annotations

from typing import Any

import httpx

from ocx.common import outbound

NOVA = {"OpenStack-API-Version": "compute 2.89"}


def presenter_jwk(compute_url: str, client: httpx.Client | None = None) -> dict[str, Any]:
    http = client or outbound.client(timeout=30)
    resp = http.get(compute_url.rstrip("/") + "/v2.1/os-ocx-presenter")
    resp.raise_for_status()
    jwk: dict[str, Any] = resp.json()["presenter"]["jwk"]
    return jwk


def delegate(
    identity_url: str,
    token: str,
    volume_id: str,
    jwk: dict[str, Any],
    ttl: int = 300,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """A delegation from the volume's landlord: ``{"id", "token", "expires_at", …}``."""
    return _delegation(identity_url, token, {"volume_id": volume_id}, jwk, ttl, client)


def delegate_image(
    identity_url: str,
    token: str,
    image_id: str,
    jwk: dict[str, Any],
    ttl: int = 300,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """A delegation from the image's landlord for the compute whose key is ``jwk`` to read
    that one image; its ``token`` goes in a boot as ``ocx:image_delegation``."""
    return _delegation(identity_url, token, {"image_id": image_id}, jwk, ttl, client)


def _delegation(
    identity_url: str,
    token: str,
    what: dict[str, str],
    jwk: dict[str, Any],
    ttl: int,
    client: httpx.Client | None,
) -> dict[str, Any]:
    http = client or outbound.client(timeout=30)
    body = {"delegation": {**what, "presenter_jwk": jwk, "ttl": ttl}}
    resp = http.post(
        identity_url.rstrip("/") + "/v3/OS-OCX/delegations",
        json=body,
        headers={"X-Auth-Token": token},
    )
    resp.raise_for_status()
    found: dict[str, Any] = resp.json()["delegation"]
    return found


def remote_image(landlord: str, delegation_token: str) -> dict[str, str]:
    """The keys that make a ``POST /servers`` body boot from ``imageRef`` at ``landlord``."""
    return {"ocx:image_landlord": landlord, "ocx:image_delegation": delegation_token}


def attach_remote(
    compute_url: str,
    home_token: str,
    server_id: str,
    *,
    volume_id: str,
    landlord: str,
    identity_url: str,
    volume_url: str,
    volume_token: str,
    ttl: int = 300,
) -> dict[str, Any]:
    """Attach volume ``volume_id`` of ``landlord`` to the server; the attachment."""
    with outbound.client(timeout=60) as http:
        jwk = presenter_jwk(compute_url, http)
        grant = delegate(identity_url, volume_token, volume_id, jwk, ttl, http)
        body = {
            "volumeAttachment": {
                "volumeId": volume_id,
                "ocx:landlord": landlord,
                "ocx:volume_url": volume_url,
                "ocx:delegation": grant["token"],
            }
        }
        resp = http.post(
            f"{compute_url.rstrip('/')}/v2.1/servers/{server_id}/os-volume_attachments",
            json=body,
            headers={"X-Auth-Token": home_token, **NOVA},
        )
        resp.raise_for_status()
        found: dict[str, Any] = resp.json()["volumeAttachment"]
        return found
