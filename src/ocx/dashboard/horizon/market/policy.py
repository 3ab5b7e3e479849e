"""Policy answers remembered per sign-in (pure: tested without Django).

Horizon checks policy for every panel of its menu and every action of every row it shows
(the Instances panel: 20 rows of some 30 actions, about 650 checks a page; its menu about 60
more), each through oslo.policy's enforcer, which reloads its rules' state and inspects each
rule's signature every time: a second of a page on this machine. An answer depends only on
the policy files (read once, at start), the question (rules and target) and the user's
credentials, which all come from the session's token (user, project, roles, domain) and
from its domain token when there is one. So each distinct question is asked once per request,
and its answer is kept for later requests with the same tokens, for a while
(``KEEP_SECONDS``, and at most ``MAX_ANSWERS``). Another token (another user, project, or a
new sign-in) never sees it. ``POLICY_CHECK_FUNCTION`` in the settings names :func:`check`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ocx.dashboard.horizon.market.kept import Kept, digest

Check = Callable[[Any, Any, Any], bool]
MEMO = "_ocx_policy_checks"
KEEP_SECONDS = 300.0
MAX_ANSWERS = 20_000


def remembered(check: Check, answers: Kept[bool] | None = None) -> Check:
    """``check`` (Horizon's signature: actions, request, target), each distinct question
    asked once per request, and once per ``answers``' time for the same tokens; a question
    that cannot be keyed is always asked."""

    def checked(actions: Any, request: Any, target: Any = None) -> bool:
        question = _question(actions, target)
        if question is None or request is None:
            return check(actions, request, target)
        memo: dict[tuple[Any, ...], bool] = request.__dict__.setdefault(MEMO, {})
        if question in memo:
            return memo[question]
        who = signed_in_as(request)
        key = (who, question)
        answer = answers.get(key) if answers is not None and who is not None else None
        if answer is None:
            # Horizon's check fills the target in; the question was taken before it does.
            answer = bool(check(actions, request, target))
            if answers is not None and who is not None:
                answers.put(key, answer)
        memo[question] = answer
        return answer

    return checked


def _question(actions: Iterable[Any], target: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    try:
        asked = tuple(tuple(action) for action in actions)
        about = tuple(sorted((target or {}).items()))
        hash((asked, about))
    except TypeError:  # an unhashable action or target value
        return None
    return (asked, about)


def signed_in_as(request: Any) -> tuple[str, str] | None:
    """Digests of the session's token and of its domain token ("" without one), from which
    every credential a policy check reads comes; None without a token."""
    token = getattr(getattr(getattr(request, "user", None), "token", None), "id", None)
    if not token:
        return None
    session = getattr(request, "session", None)
    domain = session.get("domain_token") if session is not None else None
    domain_token = getattr(domain, "auth_token", "") if domain else ""
    return (digest(str(token)), digest(str(domain_token)) if domain_token else "")


def check(actions: Any, request: Any, target: Any = None) -> bool:
    """openstack_auth's check (Horizon's default), remembered."""
    return _openstack_auth()(actions, request, target)


@functools.cache
def _openstack_auth() -> Check:
    from openstack_auth import policy

    return remembered(policy.check, Kept(KEEP_SECONDS, MAX_ANSWERS))
