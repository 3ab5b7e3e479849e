"""What every identity handler needs: the service, the verified caller, list parameters."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from ocx.common import errors
from ocx.common.auth import Principal, authenticate
from ocx.common.pagination import Page
from ocx.identity.service import IdentityService


def service(request: Request) -> IdentityService:
    svc: IdentityService = request.app.state.service
    return svc


async def caller(request: Request, svc: IdentityService = Depends(service)) -> Principal:
    return await authenticate(request, svc)


def page(request: Request) -> Page:
    return Page.parse(request.query_params.get("limit"), request.query_params.get("marker"))


def base_url(request: Request) -> str:
    svc = service(request)
    return svc.settings.public_url.rstrip("/")


def flag(value: str | None) -> bool | None:
    """Keystone's boolean query parameters: true/false/1/0/yes/no, absent is None."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("", "true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise errors.BadRequest(f"Expected a boolean, not {value!r}.")


def filters(request: Request, *names: str) -> dict[str, Any]:
    """The equality filters among ``names`` present in the query string."""
    found: dict[str, Any] = {}
    for name in names:
        if name in request.query_params:
            value: Any = request.query_params[name]
            if name == "enabled":
                value = flag(value)
            found[name] = value
    return found


def collection(
    request: Request,
    key: str,
    items: list[dict[str, Any]],
    more: bool = False,
    last_id: str | None = None,
) -> dict[str, Any]:
    """A Keystone list body with ``links``; ``next`` carries the marker when more rows follow."""
    url = str(request.url)
    next_url = None
    if more and last_id is not None:
        next_url = str(request.url.include_query_params(marker=last_id))
    return {key: items, "links": {"self": url, "previous": None, "next": next_url}}
