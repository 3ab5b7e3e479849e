"""An exhausted database pool is overload, answered 503 with Retry-After, never a 500."""

from __future__ import annotations

import httpx
import sqlalchemy.exc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ocx.common import errors
from ocx.common.app import create_app


async def exhausted(_request: Request) -> Response:
    raise sqlalchemy.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")


async def test_an_exhausted_pool_is_a_503() -> None:
    app = create_app(
        name="t", family=errors.Family.SWIFT, routes=[Route("/", exhausted)], service=None
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert "too busy" in answer.text
