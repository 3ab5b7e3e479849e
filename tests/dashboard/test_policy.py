"""Horizon's policy answers remembered per request and per sign-in: pure, without Django."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ocx.dashboard.horizon.market.kept import Kept, projects_kept
from ocx.dashboard.horizon.market.policy import remembered

START = (("compute", "os_compute_api:servers:start"),)
DELETE = (("compute", "os_compute_api:servers:delete"),)


def request(user: str, token: str, domain_token: str | None = None) -> Any:
    """What the check sees of a Django request: the user with its token, and the session."""
    session = {"domain_token": SimpleNamespace(auth_token=domain_token)} if domain_token else {}
    return SimpleNamespace(user=SimpleNamespace(name=user, token=SimpleNamespace(id=token)),
                           session=session)  # fmt: skip


def counting(allowed: set[tuple[str, str]]) -> tuple[Any, list[Any]]:
    """A check like openstack_auth's (it fills the target in), counting what it is asked."""
    asked: list[Any] = []

    def check(actions: Any, request: Any, target: Any = None) -> bool:
        asked.append((actions, request.user.name, dict(target or {})))
        if target is not None:
            target.setdefault("project_id", "p-" + request.user.name)
        return (request.user.name, actions[0][1]) in allowed

    return check, asked


def test_a_question_is_asked_once_per_request() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check)
    page = request("ann", "t-ann")
    answers = [remembered_check(START, page, {"project_id": "p1"}) for _ in range(20)]
    assert answers == [True] * 20
    assert len(asked) == 1
    assert remembered_check(DELETE, page, {"project_id": "p1"}) is False  # another rule
    assert remembered_check(START, page, {"project_id": "p2"}) is True  # another target
    assert remembered_check(START, page, {}) is True
    assert remembered_check(START, page, {}) is True  # the key is the target as asked
    assert len(asked) == 4


def test_the_next_page_with_the_same_tokens_is_answered_from_memory() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check, Kept[bool](300, 1000))
    for _ in range(3):
        assert remembered_check(START, request("ann", "t-ann"), {"project_id": "p1"}) is True
    assert len(asked) == 1


def test_another_token_user_or_domain_token_is_asked_again() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check, Kept[bool](300, 1000))
    assert remembered_check(START, request("ann", "t-ann"), {"project_id": "p1"}) is True
    assert remembered_check(START, request("bob", "t-bob"), {"project_id": "p1"}) is False
    assert remembered_check(START, request("ann", "t-ann-2"), {"project_id": "p1"}) is True
    assert remembered_check(START, request("ann", "t-ann", "d"), {"project_id": "p1"}) is True
    assert len(asked) == 4
    assert remembered_check(START, request("bob", "t-bob"), {"project_id": "p1"}) is False
    assert len(asked) == 4


def test_answers_are_kept_for_a_while_and_bounded() -> None:
    now = [0.0]
    answers = Kept[bool](60, 2, clock=lambda: now[0])
    answers.put("a", True)
    answers.put("b", False)
    assert (answers.get("a"), answers.get("b")) == (True, False)
    answers.put("c", True)  # "a" was used before "b": "a" goes
    assert (answers.get("a"), answers.get("b"), answers.get("c")) == (None, False, True)
    now[0] = 60
    assert answers.get("b") is None


def test_a_question_that_cannot_be_keyed_or_a_request_without_token_is_always_asked() -> None:
    check, asked = counting({("ann", START[0][1])})
    remembered_check = remembered(check, Kept[bool](300, 1000))
    page = request("ann", "t-ann")
    for _ in range(2):
        assert remembered_check(START, page, {"tags": ["a"]}) is True
    for _ in range(2):
        assert remembered_check(START, request("ann", ""), {"project_id": "p1"}) is True
    assert len(asked) == 4


def test_a_project_list_is_kept_per_token_and_copied() -> None:
    asked: list[str] = []

    def get_project_list(**kwargs: Any) -> list[str]:
        asked.append(kwargs["token"])
        return ["p-" + kwargs["user_id"]]

    now = [0.0]
    listed = projects_kept(get_project_list, Kept(30, 10, clock=lambda: now[0]))
    mine = listed(user_id="ann", auth_url="http://id/v3", token="t-ann", is_federated=False)
    mine.append("changed by a caller")
    assert listed(user_id="ann", auth_url="http://id/v3", token="t-ann", is_federated=False) == [
        "p-ann"
    ]
    assert listed(user_id="bob", auth_url="http://id/v3", token="t-bob", is_federated=False) == [
        "p-bob"
    ]
    assert listed(user_id="ann", auth_url="http://id/v3", token="t-ann-2", is_federated=False)
    assert asked == ["t-ann", "t-bob", "t-ann-2"]
    now[0] = 30
    listed(user_id="ann", auth_url="http://id/v3", token="t-ann", is_federated=False)
    assert asked[-1] == "t-ann" and len(asked) == 4
