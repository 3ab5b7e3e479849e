"""What a call to another landlord raises when it cannot be used (not HTTP faults: each
caller decides what they become, such as a missing landlord in a listing, or a 503)."""

from __future__ import annotations


class Unreachable(Exception):
    """A landlord could not be used for this request: down, slow, or answering garbage."""

    def __init__(self, landlord: str, reason: str):
        super().__init__(f"{landlord}: {reason}")
        self.landlord = landlord
        self.reason = reason


class Absent(Exception):
    """The customer has nothing at this landlord (no project there, or no object store)."""

    def __init__(self, landlord: str, reason: str):
        super().__init__(f"{landlord}: {reason}")
        self.landlord = landlord
        self.reason = reason
