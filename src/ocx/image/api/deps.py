"""What every image handler needs: the service and the verified caller."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from ocx.common import delegation, errors
from ocx.common.auth import Principal, authenticate, token_of
from ocx.image import delegated
from ocx.image.service import ImageService

MAX_JSON = 1024 * 1024


def service(request: Request) -> ImageService:
    svc: ImageService = request.app.state.service
    return svc


async def caller(request: Request, svc: Annotated[ImageService, Depends(service)]) -> Principal:
    if delegation.is_delegation(token_of(request)):
        found = await delegated.admit(request, svc.verifier, svc.settings.landlord, svc.proofs)
        request.state.principal = found
        return found
    return await authenticate(request, svc)


async def json_body(request: Request) -> Any:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON:
            raise errors.RequestEntityTooLarge(f"A request body may be at most {MAX_JSON} bytes.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.BadRequest(f"The request body is not valid JSON: {exc}.") from exc


Service = Annotated[ImageService, Depends(service)]
Caller = Annotated[Principal, Depends(caller)]
