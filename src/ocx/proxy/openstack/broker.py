"""The exchange's broker as the placement policy of a create no landlord is named for.

With the proxy's ``placement = "cheapest"`` and an exchange to ask
(the proxy's landlord's market, ``[landlords.market]``), a create placed by policy asks the
exchange's broker (``POST /v1/broker/choose``: :func:`ocx.exchange.broker.choose` over the
exchange's catalogue) for the ranking of the offerings of that service, and tries the
customer's landlords in that order: the landlords the broker ranks first, cheapest first,
then those it does not rank (no offering, or one without a price), home first. When the
exchange cannot be asked, the order is home first and the placement header says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ocx.proxy.openstack.call import OsCall
from ocx.proxy.placement import Policy

BROKERED = {Policy.CHEAPEST: "cheapest"}
# The exchange's service types of the proxy's APIs (ocx.exchange.offerings.SERVICE_TYPES).
SERVICE_TYPE = {"compute": "compute", "volume": "volume", "image": "image"}
TIMEOUT = 5.0


@dataclass(frozen=True)
class Order:
    """The order to try landlords in, and what ``X-OCX-Placement`` says about it."""

    landlords: tuple[str, ...]
    reason: str

    def key(self, landlord: str, rank: int) -> tuple[int, int]:
        """Sort key: the broker's position, then the customer's rank for the unranked."""
        try:
            return (self.landlords.index(landlord), rank)
        except ValueError:
            return (len(self.landlords), rank)


def ranked_landlords(choice: dict[str, Any], mine: Iterable[str]) -> tuple[str, ...]:
    """The customer's landlords in the broker's ranking order, each once (pure)."""
    allowed, seen = set(mine), []
    for item in choice.get("ranked") or []:
        landlord = item.get("landlord") if isinstance(item, dict) else None
        if isinstance(landlord, str) and landlord in allowed and landlord not in seen:
            seen.append(landlord)
    return tuple(seen)


HOME_FIRST = Order((), "home first")


async def order(call: OsCall, mine: Sequence[str]) -> Order:
    """The broker's order for a create of ``call``'s API, or home first."""
    settings = call.svc.settings
    policy = BROKERED.get(settings.placement)
    service_type = SERVICE_TYPE.get(call.api.name)
    if policy is None or service_type is None:
        return HOME_FIRST
    if not settings.exchange_url:
        return Order((), f"{policy} (no exchange to ask: home first)")
    url = settings.exchange_url.rstrip("/") + "/v1/broker/choose"
    try:
        answer = await call.svc.identity.post(
            url, json={"service_type": service_type, "policy": policy}, timeout=TIMEOUT
        )
        doc = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        doc = None
    if not isinstance(doc, dict):
        return Order((), f"{policy} (the exchange did not answer: home first)")
    landlords = ranked_landlords(doc, mine)
    if not landlords:
        return Order((), f"{policy} (no offering of yours priced: home first)")
    return Order(landlords, f"{policy} (broker: {', '.join(landlords)})")
