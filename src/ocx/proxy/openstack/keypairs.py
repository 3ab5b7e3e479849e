"""Keypairs through region ocx: made at the customer's first landlord running compute (home
first), usable for servers at every landlord.

A keypair is a landlord's own (Nova keeps it per user), so a server placed at another
landlord with ``key_name`` would not find it there. Before such a create is sent, the proxy
reads the keypair's public key at the first landlord and imports it, under the same name, at
the placing landlord when that landlord has none of that name; one of that name with another
public key is a 409 naming the landlord (the proxy never replaces a customer's key).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ocx.common import errors
from ocx.proxy.openstack.call import OsCall, send_or_503
from ocx.proxy.tokens import Backend


async def first_backend(call: OsCall) -> Backend | None:
    for candidate in await call.session.candidates():
        try:
            return await call.session.backend(candidate.name)
        except errors.NotFound:
            continue
    return None


async def carry(call: OsCall, backend: Backend, server: dict[str, Any]) -> None:
    """Make the server's ``key_name`` exist at ``backend``'s landlord (see the module)."""
    name = server.get("key_name")
    if not isinstance(name, str) or not name:
        return
    source = await first_backend(call)
    if source is None or source.landlord == backend.landlord:
        return
    path = f"/v2.1/os-keypairs/{quote(name, safe='')}"
    mine = await send_or_503(call, source, "GET", path, query="")
    if mine.status_code != 200:
        return  # no such keypair in region ocx: the placing landlord answers for it
    keypair = mine.json()["keypair"]
    there = await send_or_503(call, backend, "GET", path, query="")
    if there.status_code == 200:
        if _key(there.json()["keypair"]) != _key(keypair):
            raise errors.Conflict(
                f"Key pair {name!r} at {backend.landlord} is not the one of that name in region "
                f"ocx (its public key differs); delete it there or use another name."
            )
        return
    copy = {"name": name, "public_key": keypair["public_key"]}
    if "type" in keypair:
        copy["type"] = keypair["type"]
    body = json.dumps({"keypair": copy}).encode()
    made = await send_or_503(call, backend, "POST", "/v2.1/os-keypairs", body=body)
    if made.status_code not in (200, 201):
        said = made.content[:300].decode(errors="replace")
        raise errors.from_status(
            made.status_code if made.status_code < 500 else 503,
            f"{backend.landlord} did not take a copy of key pair {name!r}: {said}",
        )


def _key(keypair: dict[str, Any]) -> str:
    return " ".join(str(keypair.get("public_key", "")).split()[:2])
