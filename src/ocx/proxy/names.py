"""Container names in the combined view: ``photos`` or, qualified, ``photos@mit``.

A name ending in ``@<landlord>``, where the landlord is one of the caller's, addresses the
container of that name at that landlord; any other name is a plain (bare) name. Segment
containers follow their manifest's container: ``<c>_segments`` and ``<c>+segments`` (the
names python-swiftclient and rclone use) are placed where ``<c>`` lives.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

SEGMENT_SUFFIXES = ("_segments", "+segments")


@dataclass(frozen=True)
class Name:
    """A container as the client named it: the bare name, and the landlord if it said one."""

    bare: str
    landlord: str | None = None


def parse(raw: str, landlords: Collection[str]) -> Name:
    bare, at, landlord = raw.rpartition("@")
    if at and bare and landlord in landlords:
        return Name(bare, landlord)
    return Name(raw)


def qualified(bare: str, landlord: str) -> str:
    return f"{bare}@{landlord}"


def segments_of(bare: str) -> str | None:
    """The container whose large objects ``bare`` holds the segments of, if it is one."""
    for suffix in SEGMENT_SUFFIXES:
        if bare.endswith(suffix) and len(bare) > len(suffix):
            return bare[: -len(suffix)]
    return None
