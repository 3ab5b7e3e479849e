"""The one microversion rule every OpenStack API of OCX negotiates with."""

from __future__ import annotations

import pytest

from ocx.openstack.microversions import Range, Unreadable, Unserved, Version, asked

SERVED = Range(Version(3, 0), Version(3, 67))


def test_the_header_names_services() -> None:
    assert asked(None, "volume") is None
    assert asked("compute 2.79", "volume") is None
    assert asked("compute 2.79, volume 3.5", "volume") == "3.5"
    assert asked("Volume 3.5, volume 3.7", "volume") == "3.7"  # the last one counts
    assert asked("volume", "volume") is None


def test_negotiation() -> None:
    assert SERVED.negotiate(None) == (3, 0)
    assert SERVED.negotiate("LATEST") == (3, 67)
    assert SERVED.negotiate("3.27") >= (3, 27)
    assert str(SERVED.negotiate("3.0")) == "3.0"
    assert Version(3, 44).at_least("3.27") and not Version(3, 0).at_least("3.27")


@pytest.mark.parametrize("bad", ["3", "3.x", "03.1", "3.01", "3.1.1", " 3.1", ""])
def test_unreadable_versions(bad: str) -> None:
    with pytest.raises(Unreadable, match=f"API Version String {bad} is of invalid format"):
        SERVED.negotiate(bad)


def test_unserved_versions() -> None:
    with pytest.raises(Unserved) as found:
        SERVED.negotiate("3.68")
    assert str(found.value) == (
        "Version 3.68 is not supported by the API. Minimum is 3.0 and maximum is 3.67."
    )
    with pytest.raises(Unserved):
        SERVED.negotiate("2.99")
