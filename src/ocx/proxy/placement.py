"""Where a new container goes: pure functions over what the landlords said about the account.

Policies (``X-OCX-Placement`` on the PUT, else the home account's ``X-Account-Meta-Ocx-
Placement``, else the proxy's setting):

- ``home``: the customer's home landlord (503 when it is unreachable: the customer asked for it);
- ``first``: the first reachable landlord, home first, then the token's service providers in order;
- ``most-free``: the most bytes left under the account quota (``X-Account-Meta-Quota-Bytes``;
  none means unlimited), ties to the least used, then to the first;
- ``cheapest``: the lowest price the exchange quotes (the :class:`Prices` seam); with no
  prices known it places like ``first`` and says so.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ocx.common import errors


class Policy(enum.StrEnum):
    HOME = "home"
    FIRST = "first"
    MOST_FREE = "most-free"
    CHEAPEST = "cheapest"


@dataclass(frozen=True)
class Option:
    """A landlord that answered, as a place for a new container."""

    landlord: str
    rank: int
    home: bool = False
    quota_bytes: int | None = None
    used_bytes: int = 0
    price: Decimal | None = None

    @property
    def free_bytes(self) -> float:
        return float("inf") if self.quota_bytes is None else self.quota_bytes - self.used_bytes


@dataclass(frozen=True)
class Choice:
    landlord: str
    reason: str  # what X-OCX-Placement reports


def parse_policy(value: str) -> Policy:
    try:
        return Policy(value.strip().lower())
    except ValueError:
        known = ", ".join(p.value for p in Policy)
        message = f"Unknown placement policy {value!r}; use one of {known}."
        raise errors.BadRequest(message) from None


def option(
    landlord: str, rank: int, home: bool, account: Mapping[str, str], price: Decimal | None
) -> Option:
    """An option from a landlord's account headers (lower-case names)."""
    quota = account.get("x-account-meta-quota-bytes", "")
    used = account.get("x-account-bytes-used", "0")
    return Option(
        landlord=landlord,
        rank=rank,
        home=home,
        quota_bytes=int(quota) if quota.isdigit() else None,
        used_bytes=int(used) if used.isdigit() else 0,
        price=price,
    )


def choose(policy: Policy, options: Sequence[Option]) -> Choice | None:
    """The landlord for a new container, or None when the policy has nowhere to put it."""
    if not options:
        return None
    if policy is Policy.HOME:
        home = next((o for o in options if o.home), None)
        return None if home is None else Choice(home.landlord, policy.value)
    if policy is Policy.MOST_FREE:
        best = min(options, key=lambda o: (-o.free_bytes, o.used_bytes, o.rank))
        return Choice(best.landlord, policy.value)
    if policy is Policy.CHEAPEST:
        priced = [o for o in options if o.price is not None]
        if not priced:
            return Choice(_first(options).landlord, "cheapest (no prices known: first)")
        best = min(priced, key=lambda o: (o.price, o.rank))
        return Choice(best.landlord, policy.value)
    return Choice(_first(options).landlord, policy.value)


def _first(options: Sequence[Option]) -> Option:
    return min(options, key=lambda o: o.rank)


class Prices(Protocol):
    """The exchange's price of object storage at each landlord, for ``cheapest`` (a seam)."""

    async def prices(self, landlords: Sequence[str]) -> Mapping[str, Decimal]: ...


class NoPrices:
    """Until the exchange quotes prices: none known."""

    async def prices(self, landlords: Sequence[str]) -> Mapping[str, Decimal]:
        return {}
