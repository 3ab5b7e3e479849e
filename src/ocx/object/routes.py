"""The object-storage URL table: Swift v1 paths and methods to handlers.

HEAD routes come before GET ones (a GET route would answer HEAD too). A path with a trailing
slash after the container is the container, as in Swift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Route

from ocx.object.api import account, container, info, objects, uploads
from ocx.swift.info import healthcheck

ACCOUNT = ("/v1/{account}", "/v1/{account}/")
CONTAINER = ("/v1/{account}/{container}", "/v1/{account}/{container}/")
OBJECT = "/v1/{account}/{container}/{obj:path}"


def _on(paths: str | tuple[str, ...], endpoint: Callable[..., Any], method: str) -> list[Route]:
    return [
        Route(p, endpoint, methods=[method])
        for p in ((paths,) if isinstance(paths, str) else paths)
    ]


def routes() -> list[BaseRoute]:
    return [
        Route("/info", info.info, methods=["GET", "HEAD"]),
        Route("/healthcheck", healthcheck, methods=["GET", "HEAD"]),
        *_on(ACCOUNT, account.head, "HEAD"),
        *_on(ACCOUNT, account.get, "GET"),
        *_on(ACCOUNT, account.post, "POST"),
        *_on(ACCOUNT, account.put, "PUT"),
        *_on(ACCOUNT, account.delete, "DELETE"),
        *_on(CONTAINER, container.head, "HEAD"),
        *_on(CONTAINER, container.get, "GET"),
        *_on(CONTAINER, container.put, "PUT"),
        *_on(CONTAINER, container.post, "POST"),
        *_on(CONTAINER, container.delete, "DELETE"),
        *_on(OBJECT, objects.get, "HEAD"),
        *_on(OBJECT, objects.get, "GET"),
        *_on(OBJECT, uploads.put, "PUT"),
        *_on(OBJECT, objects.post, "POST"),
        *_on(OBJECT, objects.delete, "DELETE"),
        *_on(OBJECT, uploads.copy, "COPY"),
    ]
