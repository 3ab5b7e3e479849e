"""Rating's integer fast path gives exactly what the Decimal path gives."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from ocx.exchange import money


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("0", 0),
        ("12", 12 * 10**9),
        ("0.5", 500_000_000),
        ("1.000000001", 1_000_000_001),
        ("007.25", 7_250_000_000),
        (3, 3 * 10**9),
    ],
)
def test_plain_quantities_become_nanos_exactly(text: object, nanos: int) -> None:
    assert money.plain_nanos(text) == nanos
    assert money.to_nanos(money.parse_decimal(text, "q")) == nanos


@pytest.mark.parametrize(
    "text", ["-1", "1e3", "1.", ".5", "1.0000000001", "NaN", "\u0661", "1_0", " 1", -2, 1.5, True]
)
def test_other_forms_take_the_decimal_path(text: object) -> None:
    assert money.plain_nanos(text) is None


def test_integer_cost_equals_decimal_cost_half_even() -> None:
    rng = random.Random(13)
    cases = [(1, 500_000_000), (3, 500_000_000), (5, 100_000_000), (15, 100_000_000)]
    for _ in range(20_000):
        whole, frac = rng.randint(0, 10**6), rng.randint(0, 10**9 - 1)
        cases.append((whole * 10**9 + frac, rng.choice([1, 7, 999, rng.randint(1, 10**12)])))
    for quantity_nanos, unit_nanos in cases:
        quantity = Decimal(quantity_nanos).scaleb(-9)
        assert money.cost_of_nanos(quantity_nanos, unit_nanos) == money.cost_nanos(
            quantity, unit_nanos
        ), (quantity, unit_nanos)
    # Half-even at the exact half: 0.5 and 2.5 nanos round to 0 and 2, 1.5 to 2.
    assert [money.cost_of_nanos(q, 500_000_000) for q in (1, 5, 3)] == [0, 2, 2]
