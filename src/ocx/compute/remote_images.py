"""Booting from an image of another landlord: read with the customer's image delegation, its
bytes fetched once and kept here.

A boot that names, beside ``imageRef``, the image's landlord (``ocx:image_landlord``) and a
delegation from that landlord's identity for that image and this compute's presenter key
(``ocx:image_delegation``; format in :mod:`ocx.common.delegation`) makes this compute:

1. check that the landlord is one of the topology that runs an image service, and call it
   only at the URL the topology gives it;
2. read the image's record there with the delegation and a fresh proof (so the customer's
   right to that image is checked at every boot); it must be ``active``;
3. if no copy with that record's sha512 is kept here, download the bytes (another proof),
   hashing them on the way, and keep them only if the hash is the record's ``os_hash_value``.

The next server from the same image, of any customer the image's landlord lets see it, reads
the record again but never the bytes. Contract and refusals: docs/compute.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx.common import delegation, errors, outbound

CHUNK = 1 << 20
_HTML_MESSAGE = re.compile(r"<p>(.*?)</p>", re.S)


class RemoteImages:
    def __init__(self, root: Path, landlords: dict[str, str], presenter: Ed25519PrivateKey):
        self.root = root
        self.landlords = landlords  # name -> base URL of its image service
        self.presenter = presenter
        self.fetches = 0  # downloads made (what the cache saves is visible to tests)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None

    async def get(self, landlord: str, image_id: str, token: str) -> dict[str, Any]:
        """The image's record, once its bytes are kept here (400 for what Nova calls a bad
        ``imageRef``: unknown landlord, refused delegation, inactive image)."""
        url = self.landlords.get(landlord)
        if url is None:
            raise errors.BadRequest(
                f"Landlord {landlord[:64]!r} runs no image service this compute knows of."
            )
        image_url = f"{url}/v2/images/{image_id}"
        image = (await self._call(landlord, image_id, image_url, token)).json()
        if not isinstance(image, dict) or image.get("status") != "active":
            raise errors.BadRequest(f"Image {image_id} of {landlord} is not active.")
        digest = image.get("os_hash_value")
        if image.get("os_hash_algo") != "sha512" or not isinstance(digest, str):
            raise errors.BadRequest(f"Image {image_id} of {landlord} has no sha512 to check.")
        async with self._locks.setdefault((landlord, image_id), asyncio.Lock()):
            if not self.path(landlord, image_id, digest).exists():
                await self._fetch(landlord, image_id, image_url + "/file", token, digest)
        return {**image, "ocx:image_landlord": landlord}

    def path(self, landlord: str, image_id: str, digest: str) -> Path:
        return self.root / landlord / f"{image_id}.{digest[:32]}"

    async def _call(
        self, landlord: str, image_id: str, url: str, token: str, stream: bool = False
    ) -> httpx.Response:
        headers = {
            "X-Auth-Token": token,
            delegation.PROOF_HEADER: delegation.make_proof(self.presenter, token, "GET", url),
        }
        client = self._http()
        try:
            request = client.build_request("GET", url, headers=headers)
            resp = await client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"The image service of {landlord} is down.") from exc
        if resp.status_code != 200:
            await resp.aread()
            raise errors.BadRequest(
                f"Image {image_id} of {landlord} could not be read: {_reason(resp)}"
            )
        return resp

    async def _fetch(self, landlord: str, image_id: str, url: str, token: str, digest: str) -> None:
        final = self.path(landlord, image_id, digest)
        await anyio.to_thread.run_sync(lambda: final.parent.mkdir(parents=True, exist_ok=True))
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        resp = await self._call(landlord, image_id, url, token, stream=True)
        self.fetches += 1
        sha = hashlib.sha512()
        try:
            with open(tmp, "wb") as out:  # the writes below run in a thread each
                async for chunk in resp.aiter_bytes(CHUNK):
                    sha.update(chunk)
                    await anyio.to_thread.run_sync(out.write, chunk)
                await anyio.to_thread.run_sync(os.fsync, out.fileno())
            if sha.hexdigest() != digest:
                raise errors.BadRequest(
                    f"Image {image_id} of {landlord}: its bytes do not match its sha512."
                )
            os.replace(tmp, final)
        finally:
            await resp.aclose()
            tmp.unlink(missing_ok=True)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = outbound.async_client(timeout=httpx.Timeout(30.0, read=300.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _reason(resp: httpx.Response) -> str:
    """The image landlord's own message (Glance's HTML fault body, or a JSON one), or its
    status alone."""
    found = _HTML_MESSAGE.search(resp.text)
    message = html.unescape(found.group(1)) if found else None
    if message is None:
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        inner = next(iter(doc.values()), None) if isinstance(doc, dict) and len(doc) == 1 else doc
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            message = inner["message"]
    return f"{message[:300]} (HTTP {resp.status_code})" if message else f"HTTP {resp.status_code}"
