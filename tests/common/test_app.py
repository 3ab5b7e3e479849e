"""The part skeleton: one error tree rendered per family, the service at app.state.service."""

from __future__ import annotations

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ocx.common import errors
from ocx.common.app import create_app


class Teapot(Exception):
    pass


def app_raising(exc: Exception, family: errors.Family = errors.Family.SWIFT) -> object:
    async def handler(_request: Request) -> None:
        raise exc

    async def on_teapot(_request: Request, _exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("short and stout", status_code=418)

    return create_app(
        name="test:t",
        family=family,
        routes=[Route("/boom", handler)],
        service="the service",
        handlers={Teapot: on_teapot},
    )


async def get(app: object, path: str = "/boom") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


async def test_swift_faults_escape_what_the_client_sent() -> None:
    found = await get(app_raising(errors.BadRequest("bad name <script>alert(1)</script> & co")))
    assert found.status_code == 400
    assert "<script>" not in found.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in found.text


async def test_a_client_gone_mid_request_is_a_499_not_a_bug() -> None:
    found = await get(app_raising(ClientDisconnect(), errors.Family.KEYSTONE))
    assert found.status_code == 499


async def test_other_error_families_render_through_the_handlers_given() -> None:
    found = await get(app_raising(Teapot()))
    assert (found.status_code, found.text) == (418, "short and stout")


def test_the_service_is_always_at_app_state_service() -> None:
    assert app_raising(Teapot()).state.service == "the service"  # type: ignore[attr-defined]
