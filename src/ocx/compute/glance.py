"""Looking up a server's image in the landlord's own image service, as the caller."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from ocx.common import errors, outbound

CACHE_SECONDS = 10.0


class Images:
    def __init__(self, url: str | None):
        self.url = url.rstrip("/") if url else None
        self._client: httpx.AsyncClient | None = None
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    async def get(self, token: str, image_id: str) -> dict[str, Any]:
        """The image the caller may see, or 400 as Nova answers for a bad ``imageRef``."""
        if self.url is None:
            raise errors.BadRequest("This landlord has no image service: boot from a volume.")
        key = (hashlib.sha256(token.encode()).hexdigest(), image_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        if self._client is None:
            self._client = outbound.async_client(timeout=10.0)
        try:
            resp = await self._client.get(
                f"{self.url}/v2/images/{image_id}", headers={"X-Auth-Token": token}
            )
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable("The image service could not be reached.") from exc
        if resp.status_code != 200:
            raise errors.BadRequest(f"Image {image_id} could not be found.")
        image: dict[str, Any] = resp.json()
        if image.get("status") != "active":
            raise errors.BadRequest(f"Image {image_id} is not active.")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, image)
        return image

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
