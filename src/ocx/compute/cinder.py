"""Talking to a Cinder v3 service for attachments (the 3.44 flow Nova uses), as the caller.

The same client serves a landlord's own block storage (with the customer's token) and
another landlord's (with a token that landlord issued for this purpose).
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx.common import delegation, errors

VERSION = "volume 3.54"


class Cinder:
    def __init__(
        self,
        url: str,
        token: str,
        client: httpx.AsyncClient,
        proof_key: Ed25519PrivateKey | None = None,
    ):
        self.url = url.rstrip("/")
        self.token = token
        self.client = client
        self.proof_key = proof_key

    async def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, "OpenStack-API-Version": VERSION}
        if self.proof_key is not None:  # a delegation: prove we are the compute it names
            proof = delegation.make_proof(self.proof_key, self.token, method, self.url + path)
            headers[delegation.PROOF_HEADER] = proof
        try:
            return await self.client.request(method, self.url + path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(
                f"The block storage at {self.url} could not be reached."
            ) from exc

    async def volume(self, volume_id: str) -> dict[str, Any]:
        resp = await self._call("GET", f"/volumes/{volume_id}")
        if resp.status_code in (401, 403, 404):
            raise errors.NotFound(f"Volume {volume_id} could not be found.")
        _ok(resp)
        found: dict[str, Any] = resp.json()["volume"]
        return found

    async def attach(
        self, volume_id: str, server_id: str, connector: dict[str, Any]
    ) -> dict[str, Any]:
        """Reserve and connect in one call; the attachment with its connection info."""
        body = {"attachment": {"volume_uuid": volume_id, "instance_uuid": server_id,
                               "connector": connector, "mode": "rw"}}  # fmt: skip
        resp = await self._call("POST", "/attachments", body)
        if resp.status_code == 400:
            raise errors.BadRequest(_message(resp))
        _ok(resp)
        attachment: dict[str, Any] = resp.json()["attachment"]
        return attachment

    async def complete(self, attachment_id: str) -> None:
        resp = await self._call(
            "POST", f"/attachments/{attachment_id}/action", {"os-complete": attachment_id}
        )
        _ok(resp)

    async def detach(self, volume_id: str, attachment_id: str) -> None:
        """Begin detaching, then end the attachment (its export and key die at Cinder)."""
        begun = await self._call("POST", f"/volumes/{volume_id}/action", {"os-begin_detaching": {}})
        if begun.status_code not in (202, 400, 404):
            _ok(begun)
        resp = await self._call("DELETE", f"/attachments/{attachment_id}")
        if resp.status_code != 404:
            _ok(resp)

    async def abandon(self, attachment_id: str) -> None:
        """Undo a half-made attachment (errors ignored: there is nothing more to do)."""
        with contextlib.suppress(errors.OCXError):
            await self._call("DELETE", f"/attachments/{attachment_id}")

    async def delete_volume(self, volume_id: str) -> None:
        await self._call("DELETE", f"/volumes/{volume_id}")


def _message(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
        return str(next(iter(doc.values()))["message"])
    except (ValueError, StopIteration, KeyError, TypeError, AttributeError):
        return resp.text[:200]


def _ok(resp: httpx.Response) -> None:
    if resp.status_code >= 400:
        raise errors.Conflict(f"Block storage refused: {resp.status_code} {_message(resp)}")
