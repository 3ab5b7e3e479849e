"""Horizon's parallel calls on the standard library's pool: pure, without Django."""

from __future__ import annotations

import threading

import pytest

from ocx.dashboard.horizon.market.parallel import call_functions_parallel


def test_results_come_back_in_order_in_each_of_horizons_forms() -> None:
    def add(a: int, b: int = 0) -> int:
        return a + b

    found = call_functions_parallel(lambda: "x", (add, [1]), (add, [1], {"b": 2}), (add, (5, 5)))
    assert found == ("x", 1, 3, 10)
    assert call_functions_parallel() == ()


def test_the_calls_run_at_the_same_time() -> None:
    # Each call waits for the other two: run one after another, the barrier would break.
    meet = threading.Barrier(3, timeout=30)
    assert call_functions_parallel(meet.wait, meet.wait, meet.wait) is not None


def test_the_first_failure_is_raised_once_every_call_is_done() -> None:
    done: list[str] = []
    release = threading.Event()

    def fails() -> None:
        raise ValueError("no flavors")

    def slow() -> str:
        release.wait(30)
        done.append("slow")
        return "ok"

    def releases() -> None:
        release.set()

    with pytest.raises(ValueError, match="no flavors"):
        call_functions_parallel(fails, slow, releases)
    assert done == ["slow"]


def test_no_worker_is_left_behind() -> None:
    before = threading.active_count()
    call_functions_parallel(*[(lambda: None) for _ in range(5)])
    assert threading.active_count() == before
