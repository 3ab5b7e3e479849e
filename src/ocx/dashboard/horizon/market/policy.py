"""Policy checks remembered for the length of one request (pure: tested without Django).

Horizon checks the policy of every row action of every row it shows (the Instances panel: 20
rows of some 30 actions, about 650 checks a page), each through oslo.policy's enforcer,
which reloads its rules' state and inspects each check's signature every time: about a
second of a page on this machine. Within one request the answer depends only on the rules,
the target and the user, which do not change while the request runs, and most rows ask the
same (their project is the user's). So each distinct check is made once per request.
``POLICY_CHECK_FUNCTION`` in the settings names :func:`check`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Check = Callable[[Any, Any, Any], bool]
MEMO = "_ocx_policy_checks"


def remembered(check: Check) -> Check:
    """``check`` (Horizon's signature: actions, request, target), each distinct question
    answered once per request object; a question that cannot be keyed is always asked."""

    def checked(actions: Any, request: Any, target: Any = None) -> bool:
        key = _key(actions, target)
        if key is None or request is None:
            return check(actions, request, target)
        memo: dict[tuple[Any, ...], bool] = request.__dict__.setdefault(MEMO, {})
        if key not in memo:
            # Horizon's check fills the target in; the key is taken before it does.
            memo[key] = bool(check(actions, request, target))
        return memo[key]

    return checked


def _key(actions: Iterable[Any], target: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    try:
        asked = tuple(tuple(action) for action in actions)
        about = tuple(sorted((target or {}).items()))
        hash((asked, about))
    except TypeError:  # an unhashable action or target value
        return None
    return (asked, about)


def check(actions: Any, request: Any, target: Any = None) -> bool:
    """openstack_auth's check (Horizon's default), remembered per request."""
    return _openstack_auth()(actions, request, target)


@functools.cache
def _openstack_auth() -> Check:
    from openstack_auth import policy

    return remembered(policy.check)
