"""How a topology file that cannot be used is reported: where, then why."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocx import parts, runner, topology

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


REACH = """
[[landlords]]
name = "harvard"
parts = ["identity", "proxy", "compute"]
[[landlords]]
name = "mit"
parts = ["identity", "volume"]
trusts = ["harvard"]
[[landlords]]
name = "stor"
parts = ["identity", "image", "object"]
"""


def test_region_ocx_lists_only_the_apis_a_reachable_landlord_runs(tmp_path: Path) -> None:
    # harvard's customers reach harvard and mit (it trusts harvard), not stor.
    harvard = runner.landlords(topology.parse(REACH), tmp_path, None)["harvard"]
    harvard.base_urls = {part: f"http://h/{part}" for part in harvard.config.parts}
    listed = sorted(e.type for e in harvard.catalog() if e.region == parts.PROXY_REGION)
    assert listed == ["block-storage", "compute", "identity", "volumev3"]
    assert harvard.reachable_parts() == {"identity", "proxy", "compute", "volume"}
