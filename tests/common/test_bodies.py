"""The shared JSON body check, without a server."""

from __future__ import annotations

import pytest

from ocx.common import bodies, errors


def test_loads_accepts_ordinary_json() -> None:
    text = '{"a": [1, {"b": "[[{{\\"}}"}], "c": "\\u00e9"}'
    assert bodies.loads(text) == {"a": [1, {"b": '[[{{"}}'}], "c": "é"}


@pytest.mark.parametrize("text", ["[" * 33 + "]" * 33, '{"a":' * 40 + "1" + "}" * 40])
def test_loads_refuses_deep_nesting(text: str) -> None:
    with pytest.raises(errors.BadRequest, match="nests deeper than 32"):
        bodies.loads(text)


def test_loads_nesting_limit_is_exact() -> None:
    assert bodies.loads("[" * 32 + "]" * 32, max_depth=32)
    with pytest.raises(errors.BadRequest):
        bodies.loads("[" * 5 + "]" * 5, max_depth=4)


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udfff": 1}', '[["ok", "\\ud83d"]]'])
def test_loads_refuses_lone_surrogates(text: str) -> None:
    with pytest.raises(errors.BadRequest, match="lone surrogate"):
        bodies.loads(text)


@pytest.mark.parametrize("text", ['"a\\u0000b"', '{"k\\u0000": 1}', '[{"x": ["\\u0000"]}]'])
def test_loads_refuses_nul_characters(text: str) -> None:
    # PostgreSQL cannot store U+0000 in text: taken in, it became a 500 at the exchange.
    with pytest.raises(errors.BadRequest, match="NUL character"):
        bodies.loads(text)


def test_loads_keeps_surrogate_pairs() -> None:
    assert bodies.loads('"\\ud83d\\ude00"') == "\U0001f600"


def test_loads_leaves_malformed_json_to_the_caller() -> None:
    with pytest.raises(ValueError):
        bodies.loads(b"{nope")
