"""Image data: upload (streamed, atomic) and download (whole or one range)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator

from fastapi import Request, Response
from starlette.responses import StreamingResponse

from ocx.common import errors
from ocx.image.api.deps import Caller, Service

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def upload(request: Request, image_id: str, svc: Service, who: Caller) -> Response:
    declared = request.headers.get("x-openstack-image-size")
    size = None
    if declared:
        if not declared.isdigit():
            raise errors.BadRequest(f"x-openstack-image-size must be a number, not {declared!r}.")
        size = int(declared)
    await svc.upload(who, image_id, _body(request, svc.settings.read_timeout), size)
    return Response(status_code=204)


async def _body(request: Request, timeout: float) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(timeout):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise errors.BadRequest(
                f"No data arrived for {timeout:.0f}s; upload abandoned."
            ) from exc
        yield chunk


async def download(request: Request, image_id: str, svc: Service, who: Caller) -> Response:
    image, fd = await svc.open(who, image_id)
    if fd is None or image.size is None:
        return Response(status_code=204)
    start, length = _range(request.headers.get("range"), image.size, fd)
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(length),
        "Content-MD5": image.checksum or "",
    }
    status = 200
    if length != image.size:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{image.size}"
    return StreamingResponse(svc.files.chunks(fd, start, length), status, headers)


def _range(header: str | None, size: int, fd: int) -> tuple[int, int]:
    if not header:
        return 0, size
    found = _RANGE.match(header.strip())
    first = found.group(1) if found else ""
    last = found.group(2) if found else ""
    if found is None or (not first and not last):
        os.close(fd)
        raise errors.RangeNotSatisfiable(f"Invalid Range header {header!r}.")
    if not first:
        start = max(0, size - int(last))
        end = size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        os.close(fd)
        raise errors.RangeNotSatisfiable(
            f"Range {header!r} is outside the image's {size} bytes.",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end - start + 1
