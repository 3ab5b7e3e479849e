"""The extension list over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ocx.volume import extensions
from ocx.volume.api.context import Ctx

router = APIRouter()


@router.get("/extensions")
async def index(call: Ctx) -> dict[str, Any]:
    return {"extensions": extensions.listing()}
