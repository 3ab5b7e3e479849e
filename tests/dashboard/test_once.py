"""A read asked once per page: pure, without Django."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ocx.dashboard.horizon.market.once import once_per_page


def limits_counting() -> tuple[Any, list[Any]]:
    asked: list[Any] = []

    def tenant_absolute_limits(request: Any, reserved: bool = False, tenant_id: Any = None) -> Any:
        asked.append((reserved, tenant_id))
        return {"maxTotalInstances": 10, "totalInstancesUsed": len(asked)}

    return tenant_absolute_limits, asked


def test_a_page_asks_once_per_arguments_and_each_caller_gets_its_own_copy() -> None:
    limits, asked = limits_counting()
    once = once_per_page(limits)
    page = SimpleNamespace(method="GET")
    first = once(page, reserved=True)
    first["totalInstancesUsed"] = 99  # a caller changing what it was given
    assert once(page, reserved=True) == {"maxTotalInstances": 10, "totalInstancesUsed": 1}
    assert once(page) == {"maxTotalInstances": 10, "totalInstancesUsed": 2}  # other arguments
    assert len(asked) == 2


def test_the_next_page_and_a_post_ask_again() -> None:
    limits, asked = limits_counting()
    once = once_per_page(limits)
    once(SimpleNamespace(method="GET"), reserved=True)
    once(SimpleNamespace(method="GET"), reserved=True)
    form = SimpleNamespace(method="POST")
    once(form, reserved=True)
    once(form, reserved=True)
    assert len(asked) == 4
