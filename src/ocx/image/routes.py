"""The image URL table: Glance v2 paths to handlers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from ocx.image.api import data, images, members, versions

IMAGE = "/v2/images/{image_id}"
MEMBER = IMAGE + "/members/{member_id}"


def _r(path: str, endpoint: Callable[..., Any], *methods: str) -> APIRoute:
    return APIRoute(path, endpoint, methods=list(methods), response_model=None)


@functools.cache  # built once per process: FastAPI's analysis of each handler is costly
def routes() -> list[BaseRoute]:
    return [
        _r("/", versions.multiple_choices, "GET"),
        _r("/versions", versions.versions, "GET"),
        _r("/v2", versions.versions, "GET"),
        _r("/v2/", versions.versions, "GET"),
        _r("/v2/images", images.create, "POST"),
        _r("/v2/images", images.index, "GET"),
        _r(IMAGE, images.show, "GET"),
        _r(IMAGE, images.update, "PATCH"),
        _r(IMAGE, images.delete, "DELETE"),
        _r(IMAGE + "/file", data.upload, "PUT"),
        _r(IMAGE + "/file", data.download, "GET"),
        _r(IMAGE + "/tags/{tag}", images.add_tag, "PUT"),
        _r(IMAGE + "/tags/{tag}", images.remove_tag, "DELETE"),
        _r(IMAGE + "/actions/deactivate", images.deactivate, "POST"),
        _r(IMAGE + "/actions/reactivate", images.reactivate, "POST"),
        _r(IMAGE + "/members", members.index, "GET"),
        _r(IMAGE + "/members", members.create, "POST"),
        _r(MEMBER, members.show, "GET"),
        _r(MEMBER, members.update, "PUT"),
        _r(MEMBER, members.delete, "DELETE"),
        _r("/v2/schemas/{name}", images.schema, "GET"),
    ]
