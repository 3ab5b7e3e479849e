"""Horizon's policy checks remembered per request: pure, without Django."""

from __future__ import annotations

from typing import Any

from ocx.dashboard.horizon.market.policy import remembered

START = (("compute", "os_compute_api:servers:start"),)
DELETE = (("compute", "os_compute_api:servers:delete"),)


class Request:
    """What the check sees of a Django request: an object with attributes."""

    def __init__(self, user: str):
        self.user = user


def counting(allowed: set[tuple[str, str]]) -> tuple[Any, list[Any]]:
    """A check like openstack_auth's (it fills the target in), counting what it is asked."""
    asked: list[Any] = []

    def check(actions: Any, request: Any, target: Any = None) -> bool:
        asked.append((actions, request.user, dict(target or {})))
        if target is not None:
            target.setdefault("project_id", "p-" + request.user)
        return (request.user, actions[0][1]) in allowed

    return check, asked


def test_a_question_is_asked_once_per_request() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check)
    page = Request("ann")
    answers = [remembered_check(START, page, {"project_id": "p1"}) for _ in range(20)]
    assert answers == [True] * 20
    assert len(asked) == 1
    assert remembered_check(DELETE, page, {"project_id": "p1"}) is False  # another rule
    assert remembered_check(START, page, {"project_id": "p2"}) is True  # another target
    assert remembered_check(START, page, {}) is True
    assert remembered_check(START, page, {}) is True  # the key is the target as asked
    assert len(asked) == 4


def test_another_request_is_asked_again() -> None:
    """Answers live on the request: the next page, or another user's, asks anew."""
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check)
    assert remembered_check(START, Request("ann"), {"project_id": "p1"}) is True
    assert remembered_check(START, Request("bob"), {"project_id": "p1"}) is False
    assert remembered_check(START, Request("ann"), {"project_id": "p1"}) is True
    assert len(asked) == 3


def test_a_question_that_cannot_be_keyed_is_always_asked() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check)
    page = Request("ann")
    for _ in range(2):
        assert remembered_check(START, page, {"tags": ["a"]}) is True
    assert len(asked) == 2
