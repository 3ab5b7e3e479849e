"""The object app's direct route for object GET, HEAD and PUT: what it takes, and that its
answers (errors included) come out as the framework's would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ocx.common import errors
from ocx.common.app import create_app
from ocx.common.direct import DirectApp
from ocx.object import app as object_app
from ocx.swift.faults import not_found, precondition


class Calls:
    def __init__(self) -> None:
        self.direct: list[str] = []
        self.framework: list[str] = []
        self.fail: Exception | None = None


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[httpx.AsyncClient, Calls]]:
    calls = Calls()

    async def direct(request: Request) -> Response:
        body = await request.body()
        calls.direct.append(
            f"{request.method} {request.path_params}" + (f" {body!r}" if body else "")
        )
        if calls.fail is not None:
            raise calls.fail
        return Response(b"direct", headers={"Content-Type": "text/plain"})

    async def framework(request: Request) -> Response:
        calls.framework.append(f"{request.method} {request.url.path}")
        return Response(b"framework")

    monkeypatch.setattr(object_app.objects, "get", direct)
    monkeypatch.setattr(object_app.uploads, "put", direct)
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    routes = [
        Route("/v1/{account}/{container}/", framework, methods=methods),
        Route("/v1/{account}/{container}/{obj:path}", framework, methods=methods),
    ]
    app = create_app(name="object:t", family=errors.Family.SWIFT, routes=routes, service=None)
    wrapped = DirectApp(app, "object:t", object_app.direct)
    assert wrapped.state is app.state
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http, calls


async def test_object_reads_go_direct_and_the_rest_to_the_framework(
    client: tuple[httpx.AsyncClient, Calls],
) -> None:
    http, calls = client
    answer = await http.get("/v1/AUTH_p/c/a/b")
    assert (answer.status_code, answer.text) == (200, "direct")
    assert answer.headers["x-trans-id"] == answer.headers["x-openstack-request-id"]
    assert (await http.head("/v1/AUTH_p/c/o")).status_code == 200
    assert (await http.put("/v1/AUTH_p/c/o", content=b"data")).text == "direct"
    expected: list[Any] = [
        "GET {'account': 'AUTH_p', 'container': 'c', 'obj': 'a/b'}",
        "HEAD {'account': 'AUTH_p', 'container': 'c', 'obj': 'o'}",
        "PUT {'account': 'AUTH_p', 'container': 'c', 'obj': 'o'} b'data'",
    ]
    assert calls.direct == expected
    others = [("GET", "/v1/AUTH_p/c/"), ("PUT", "/v1/AUTH_p/c/"), ("POST", "/v1/AUTH_p/c/o")]
    others.append(("DELETE", "/v1/AUTH_p/c/o"))
    for method, path in others:
        assert (await http.request(method, path)).text == "framework"
    assert calls.framework == [f"{method} {path}" for method, path in others]
    assert len(calls.direct) == 3


async def test_errors_render_as_the_framework_renders_them(
    client: tuple[httpx.AsyncClient, Calls],
) -> None:
    http, calls = client
    calls.fail = not_found()
    missing = await http.get("/v1/AUTH_p/c/o")
    assert missing.status_code == 404
    assert "could not be found" in missing.text
    assert missing.headers["x-trans-id"].startswith("tx")
    calls.fail = precondition()
    refused = await http.put("/v1/AUTH_p/c/o", content=b"x")
    assert refused.status_code == 412
    calls.fail = RuntimeError("a bug")
    broken = await http.get("/v1/AUTH_p/c/o")
    assert broken.status_code == 500
    assert "internal error" in broken.text
    assert broken.headers["content-type"].startswith("text/html")
