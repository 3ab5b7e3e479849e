"""Answers kept for a while in a Horizon worker (pure: tested without Django).

:class:`Kept` is a bounded map whose entries end (least recently used go first), shared by
the threads of one worker. :func:`projects_kept` keeps a user's project list per token:
Horizon asks the identity for it on every page (the project menu, again in the page's header
loaded after it), and it changes only when an administrator grants a project, which the menu
then shows within ``PROJECTS_SECONDS``.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")
PROJECTS_SECONDS = 30.0


class Kept(Generic[V]):
    def __init__(self, keep: float, most: int, clock: Callable[[], float] = time.monotonic):
        self.keep = keep
        self.most = most
        self.clock = clock
        self._found: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._found.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._found[key]
                return None
            self._found.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._found[key] = (self.clock() + self.keep, value)
            self._found.move_to_end(key)
            while len(self._found) > self.most:
                self._found.popitem(last=False)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def projects_kept(call: Callable[..., Any], kept: Kept[Any]) -> Callable[..., Any]:
    """openstack_auth's ``get_project_list(user_id=, auth_url=, token=, is_federated=)``,
    its answer kept per token (by digest) and the other arguments; a call with anything
    else (a session, positional arguments) is always made. Each caller gets its own copy."""

    def project_list(*args: Any, **kwargs: Any) -> Any:
        if args or "session" in kwargs or not kwargs.get("token"):
            return call(*args, **kwargs)
        key = tuple(sorted((k, digest(str(v)) if k == "token" else v) for k, v in kwargs.items()))
        try:
            found = kept.get(key)
        except TypeError:  # an unhashable argument
            return call(*args, **kwargs)
        if found is None:
            found = call(*args, **kwargs)
            kept.put(key, found)
        return copy.copy(found)

    project_list.ocx_guarded = True  # type: ignore[attr-defined]
    return project_list
