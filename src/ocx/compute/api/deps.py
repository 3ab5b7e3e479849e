"""What every compute handler needs: the service, the caller, the microversion, the body."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from ocx.common import errors
from ocx.common.auth import Principal, authenticate
from ocx.compute.microversion import MIN_VERSION, Version
from ocx.compute.service import ComputeService
from ocx.openstack import links

MAX_JSON = 1024 * 1024


def service(request: Request) -> ComputeService:
    svc: ComputeService = request.app.state.service
    return svc


async def caller(request: Request, svc: Annotated[ComputeService, Depends(service)]) -> Principal:
    return await authenticate(request, svc)


def version(request: Request) -> Version:
    found = getattr(request.state, "version", MIN_VERSION)
    assert isinstance(found, Version)
    return found


def base(request: Request) -> str:
    return service(request).settings.public_url.rstrip("/") + "/v2.1"


async def body(request: Request) -> Any:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON:
            raise errors.RequestEntityTooLarge(f"A request body may be at most {MAX_JSON} bytes.")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.BadRequest(f"Malformed request body: {exc}") from exc


def limit(request: Request, maximum: int) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return maximum
    if not text.isdigit():
        raise errors.BadRequest(f"limit must be a non-negative integer, not {text!r}.")
    return min(int(text), maximum)


def next_links(request: Request, kind: str, items: list[Any], limit: int) -> list[dict[str, str]]:
    if not items or len(items) < limit:
        return []
    params = request.query_params.multi_items()
    return links.next_links(f"{base(request)}/{kind}", params, items[-1].id)


Service = Annotated[ComputeService, Depends(service)]
Caller = Annotated[Principal, Depends(caller)]
Ver = Annotated[Version, Depends(version)]
Base = Annotated[str, Depends(base)]
