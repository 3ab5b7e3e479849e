"""How a topology file that cannot be used is reported: where, then why."""

from __future__ import annotations

import pytest

from ocx import topology

TWO_NAMED_A = """
[exchange]
base_port = 0
[[landlords]]
name = "a"
parts = ["identity"]
[[landlords]]
name = "a"
parts = ["identity"]
"""


def test_a_problem_of_the_whole_topology_names_no_empty_place() -> None:
    with pytest.raises(topology.TopologyError) as refused:
        topology.parse(TWO_NAMED_A, "t.toml")
    assert str(refused.value) == "t.toml: landlord names must be unique"


def test_a_problem_in_one_landlord_says_where() -> None:
    text = TWO_NAMED_A.replace('name = "a"', 'name = "b"', 1).replace('"identity"]', '"teleport"]')
    with pytest.raises(topology.TopologyError) as refused:
        topology.parse(text, "t.toml")
    assert str(refused.value).startswith("t.toml: landlords.0.parts: unknown parts ['teleport']")
