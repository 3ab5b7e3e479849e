"""OpenStack microversions, one rule for every API that has them (Nova, Cinder).

A request asks with ``OpenStack-API-Version: <service> X.Y`` (several services may share the
header, comma-separated; the last entry naming the service counts). No version asked means
the API's minimum, ``latest`` its maximum. ``X.Y`` has no leading zeros: anything else is
:class:`Unreadable` (a 400 at every API), a version outside the API's range :class:`Unserved`
(a 406). Each API renders those in its own fault format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

HEADER = "OpenStack-API-Version"
_FORMAT = re.compile(r"([1-9]\d*)\.([1-9]\d*|0)")


class Version(NamedTuple):
    """A microversion; compares as the ``(major, minor)`` tuple it is."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        major, minor = text.split(".")
        return (self.major, self.minor) >= (int(major), int(minor))


class Unreadable(ValueError):
    """The version asked for is not ``X.Y``."""


class Unserved(ValueError):
    """The version asked for is outside what the API serves."""


def asked(header: str | None, service: str) -> str | None:
    """The version ``header`` (``OpenStack-API-Version``) asks of ``service``, if any."""
    found = None
    for entry in (header or "").split(","):
        name, _, value = entry.strip().partition(" ")
        if name.lower() == service and value.strip():
            found = value.strip()
    return found


@dataclass(frozen=True)
class Range:
    """The microversions an API serves."""

    minimum: Version
    maximum: Version

    def negotiate(self, wanted: str | None) -> Version:
        """The version to serve for what a request asks (None: it asked for none)."""
        if wanted is None:
            return self.minimum
        if wanted.lower() == "latest":
            return self.maximum
        found = _FORMAT.fullmatch(wanted)
        if found is None:
            raise Unreadable(
                f"API Version String {wanted} is of invalid format. Must be of format "
                "MajorNum.MinorNum."
            )
        version = Version(int(found[1]), int(found[2]))
        if not self.minimum <= version <= self.maximum:
            raise Unserved(
                f"Version {version} is not supported by the API. Minimum is {self.minimum} and "
                f"maximum is {self.maximum}."
            )
        return version
