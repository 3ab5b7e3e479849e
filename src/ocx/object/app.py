"""The object-storage ASGI application of one landlord.

Object GETs, HEADs and PUTs are most of what an object store serves, and for a small object
the framework's layers cost about as much as the read or write itself: they go straight to
their handler (:class:`ocx.common.direct.DirectApp`, :func:`direct`); everything else goes
through the FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import compile_path

from ocx.common.app import create_app
from ocx.common.direct import DirectApp, Endpoint
from ocx.common.errors import Family
from ocx.object.api import objects, uploads
from ocx.object.routes import OBJECT, routes
from ocx.object.service import ObjectService

# The route table's own pattern for objects. The account and container routes come before it
# in the table; of what it matches, they take only the paths with an empty object name.
OBJECT_PATH = compile_path(OBJECT)[0]


def handler(method: str) -> Endpoint | None:
    """The handler an object request of ``method`` goes straight to; None: the framework's
    route table (the same handler there, for these)."""
    if method in ("GET", "HEAD"):
        return objects.get
    if method == "PUT":
        return uploads.put
    return None


def direct(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    """Object GET, HEAD and PUT: their handler and path parameters."""
    endpoint = handler(method)
    match = None if endpoint is None else OBJECT_PATH.match(path)
    if endpoint is None or match is None or not match["obj"]:
        return None
    return endpoint, match.groupdict()


def build(service: ObjectService) -> FastAPI:
    """The app; the caller starts and stops ``service`` (so several apps can share a loop)."""
    return create_app(
        name=f"object:{service.settings.landlord}",
        family=Family.SWIFT,
        routes=routes(),
        service=service,
    )


def build_app(service: ObjectService) -> DirectApp:
    return DirectApp(build(service), f"object:{service.settings.landlord}", direct)
