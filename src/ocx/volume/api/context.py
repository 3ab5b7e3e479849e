"""What every block-storage handler gets: the service, the caller, the microversion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ocx.common import delegation, errors
from ocx.common.auth import authenticate
from ocx.volume import delegated
from ocx.volume.caller import Caller
from ocx.volume.microversion import MIN, Version
from ocx.volume.service import VolumeService


@dataclass(frozen=True)
class Call:
    svc: VolumeService
    caller: Caller
    version: Version
    base: str

    @property
    def host(self) -> str:
        return self.svc.settings.data_host


async def call(request: Request) -> Call:
    svc: VolumeService = request.app.state.service
    if delegation.is_delegation(request.headers.get("x-auth-token")):
        found = await delegated.admit(request, svc.verifier, svc.settings.landlord, svc.db)
    else:
        found = await authenticate(request, svc.verifier)
    if not found.project_id:
        raise errors.Forbidden("Block storage needs a project-scoped token.")
    version: Version = getattr(request.state, "volume_version", MIN)
    return Call(
        svc,
        Caller.of(found, request.headers.get("x-auth-token")),
        version,
        svc.settings.public_url.rstrip("/"),
    )


Ctx = Annotated[Call, Depends(call)]


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


Query = Annotated[dict[str, str], Depends(query)]
