"""Volumes from images: the landlord's own image service (Glance v2), asked as the caller.

The image's bytes are streamed into the volume's temporary file (all-zero chunks become
holes), which is then sized, fsynced and renamed like every other volume file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from ocx.common import errors, outbound
from ocx.volume.storage import GiB

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ImageSource:
    url: str
    token: str
    image_id: str


def _invalid(image_id: str) -> errors.BadRequest:
    return errors.BadRequest(
        f"Invalid image identifier or unable to access requested image: {image_id}."
    )


async def inspect(image_url: str, token: str, image_id: str) -> dict[str, Any]:
    """The caller's image, if active; 400 in Cinder's words otherwise."""
    async with outbound.async_client(timeout=10.0) as client:
        try:
            resp = await client.get(
                f"{image_url}/v2/images/{image_id}", headers={"X-Auth-Token": token}
            )
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable("The image service could not be reached.") from exc
    if resp.status_code != 200:
        raise _invalid(image_id)
    image: dict[str, Any] = resp.json()
    if image.get("status") != "active" or not isinstance(image.get("size"), int):
        raise errors.BadRequest(f"Invalid image: image {image_id} is not active.")
    return image


def gigabytes_for(image: dict[str, Any]) -> int:
    return max(1, math.ceil(image["size"] / GiB), int(image.get("min_disk") or 0))


async def download(source: ImageSource, target: Path, size_gb: int) -> None:
    """Stream the image into ``target``'s temporary name, then put it in place."""
    tmp = target.with_name(f".{target.stem}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        async with (
            outbound.async_client(timeout=httpx.Timeout(30.0, read=120.0)) as client,
            client.stream(
                "GET",
                f"{source.url}/v2/images/{source.image_id}/file",
                headers={"X-Auth-Token": source.token},
            ) as resp,
        ):
            if resp.status_code != 200:
                raise OSError(f"image download answered {resp.status_code}")
            offset = 0
            async for chunk in resp.aiter_bytes(CHUNK):
                await anyio.to_thread.run_sync(_put, fd, chunk, offset)
                offset += len(chunk)
                if offset > size_gb * GiB:
                    raise OSError("the image is larger than the volume")
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    await anyio.to_thread.run_sync(_finish, fd, tmp, target, size_gb)


def _put(fd: int, chunk: bytes, offset: int) -> None:
    if chunk.count(0) != len(chunk):  # zeros stay a hole
        os.pwrite(fd, chunk, offset)


def _finish(fd: int, tmp: Path, target: Path, size_gb: int) -> None:
    os.ftruncate(fd, size_gb * GiB)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, target)
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
