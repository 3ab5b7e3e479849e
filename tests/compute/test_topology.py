"""A landlord's compute as its topology declares it: hosts, flavors and quotas."""

from __future__ import annotations

import pytest

from ocx import topology
from ocx.compute.scheduler import Need, Placement
from ocx.compute.settings import DEFAULT_FLAVORS, ComputeOptions

COMPUTE = '[[landlords]]\nname = "a"\nparts = ["identity", "compute"]\n'


def options(landlord: str) -> ComputeOptions:
    found = next(x for x in topology.load(None).landlords if x.name == landlord)
    opts = found.part_options("compute")
    assert isinstance(opts, ComputeOptions)
    return opts


def test_default_topology_has_the_seeds_compute_landlords() -> None:
    fpga, elastic, harvard = options("fpga"), options("elastic"), options("harvard")
    assert {f.name for f in fpga.flavors} == {"fpga.small", "fpga.large", "m1.small"}
    assert harvard.flavors == DEFAULT_FLAVORS  # no options: Nova's usual sizes
    assert len(elastic.hosts) == 16 and elastic.quotas["instances"] == 10000


def test_fpga_flavors_land_only_on_fpga_hosts() -> None:
    fpga = options("fpga")
    placement = Placement(fpga.hosts, 16.0, 1.5, 1.0)
    by_name = {f.name: f for f in fpga.flavors}
    boards = placement.place(Need.of(by_name["fpga.large"].model_dump()), 10)
    assert boards and set(boards) <= {"u250-1", "u250-2"}
    plain = placement.place(Need.of(by_name["m1.small"].model_dump()), 10)
    assert set(plain) == {"cpu-1"}


@pytest.mark.parametrize(
    ("options_toml", "message"),
    [
        ('[landlords.options.volume]\nx = 1\n', "options for 'volume', which a does not run"),
        ("[landlords.options.compute]\nhosts = []\n",
         "options.compute: hosts: Tuple should have at least 1 item"),
        ('[landlords.options.compute]\nhosts = [{name = "h", vcpus = 0}]\n',
         "options.compute: hosts.0.vcpus: Input should be greater than or equal to 1"),
        ('[landlords.options.compute]\nhosts = [{name = "h"}, {name = "h"}]\n',
         "each host must be unique: h"),
        ("[landlords.options.compute]\nquotas = { instancez = 5 }\n", "unknown quotas"),
        ("[landlords.options.compute]\nbogus = 1\n", "bogus: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_compute_options_are_refused_with_where_and_why(
    options_toml: str, message: str
) -> None:
    with pytest.raises(topology.TopologyError) as refused:
        topology.parse(COMPUTE + options_toml, "t.toml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("t.toml: landlords.0")


def test_a_part_without_options_refuses_them() -> None:
    text = '[[landlords]]\nname = "a"\nparts = ["identity", "image"]\n[landlords.options.image]\n'
    with pytest.raises(topology.TopologyError, match="the image part takes no options"):
        topology.parse(text + "x = 1\n")
