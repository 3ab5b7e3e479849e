"""A read of a service asked once per page (pure: tested without Django).

Horizon's Instances panel asks Nova's ``/limits`` twice a page (its two Launch buttons
each check the quota) and its Volumes panel Cinder's twice (Create Volume, and the
quota chart); the answer cannot change while the page is made. A GET request made once per
request object: a form's POST (which may change what it reads) always asks.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

MEMO = "_ocx_once"


def once_per_page(call: Callable[..., Any]) -> Callable[..., Any]:
    """``call(request, ...)`` made once per GET request and arguments; each caller gets its
    own copy of the answer (Horizon's callers may change what they are given)."""
    name = f"{call.__module__}.{call.__qualname__}"

    @functools.wraps(call)
    def once(request: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(request, "method", None) != "GET":
            return call(request, *args, **kwargs)
        try:
            key = (name, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return call(request, *args, **kwargs)
        memo: dict[Any, Any] = request.__dict__.setdefault(MEMO, {})
        if key not in memo:
            memo[key] = call(request, *args, **kwargs)
        return copy.deepcopy(memo[key])

    once.ocx_guarded = True  # type: ignore[attr-defined]
    return once
