"""How identity's URL tables are written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute


def route(path: str, endpoint: Callable[..., Any], *methods: str) -> APIRoute:
    return APIRoute(path, endpoint, methods=list(methods), response_model=None)
