"""Metering: what each customer's project holds over time, sent to the exchange signed.

A part that sells on an exchange gives a :class:`Meter` a function that lists what every
project holds right now (:class:`Holding`: a volume's GiB of a type, a server of a flavor,
running or stopped, a container's GiB) and what it used since the last sample (requests,
GiB sent out). Every ``meter_interval`` the meter samples it and, for each holding of a
customer whose live grant prices that metric, makes a usage record for the interval since
the last sample: the amount times the hours, or the amount used. Holdings of the landlord's
own users, or metrics no grant prices, are not sent (the exchange would refuse the batch).

Record ids are ``<part>:<resource>:<metric>:<interval start in ms>``, so a batch sent twice
(a retry after a lost answer) counts once at the exchange. Batches the exchange did not
take are kept and retried, up to :data:`MAX_PENDING` records.

Time a part is down is not billed. A sample is the part's own evidence that it was serving:
the meter runs in the part's process, on its event loop. So an interval is billed only if it
is backed by samples at most :data:`MAX_GAP` meter intervals (and at least
:data:`MIN_GAP_SECONDS`, so a slow round under load is not taken for an outage) apart; a
longer gap (the process was stopped, suspended or stalled) is dropped, kept in
:attr:`Meter.unbilled`, and a new interval starts at the next sample. The sampling clock
lives in memory, so a restart likewise starts a new interval.

A part that stops (SIGTERM, Ctrl-C, a restart for an upgrade) samples and sends the open
interval first (:meth:`Meter.close`), so what was held and used since the last sample — a
part's request and byte counts live in memory — is billed, not lost. A process killed
outright (SIGKILL, a crash) cannot: its open interval, at most ``meter_interval``, and any
batch the exchange had not yet taken are lost (under-billing, never double billing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from ocx.common.market import TYP_USAGE, Gate, Grant

log = logging.getLogger("ocx.metering")

BATCH = 2000
MAX_PENDING = 100_000
NANO = Decimal("0.000000001")
# A gap between two samples longer than this many meter intervals is time the part was down.
MAX_GAP = 3.0
MIN_GAP_SECONDS = 120.0
# How long a stopping part waits for the exchange to take its last usage.
CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Holding:
    """What one project holds now: ``amount`` of ``unit``/hour of ``metric`` (GiB, servers);
    or, with ``per_hour`` False, what it used since the last sample (requests, GiB out), billed
    as it is."""

    project_id: str
    resource_id: str
    resource_type: str
    metric: str
    unit: str
    amount: Decimal
    per_hour: bool = True


Holdings = Callable[[], Awaitable[list[Holding]]]


class Meter:
    """Samples a part's holdings and sends signed usage batches (see the module docstring)."""

    def __init__(self, gate: Gate, part: str, holdings: Holdings, client: httpx.AsyncClient):
        self.gate = gate
        self.part = part
        self.holdings = holdings
        self._client = client
        self._last = time.time()
        self.pending: list[dict[str, Any]] = []
        self.sent = 0
        self.unbilled: list[tuple[float, float]] = []  # gaps with no sample: the part was down

    async def tick(self) -> None:
        """Sample now if an interval has passed, then send what is pending."""
        now = time.time()
        interval = self.gate.link.meter_interval
        if now - self._last < interval:
            return
        if now - self._last > max(MAX_GAP * interval, MIN_GAP_SECONDS):
            log.warning(
                "%s was not sampled for %.0f s: that time is not billed",
                self.part,
                now - self._last,
            )
            self.unbilled = [*self.unbilled[-99:], (self._last, now)]
            self._last = now
            await self.flush()
            return
        await self._sample(now)
        await self.flush()

    async def close(self) -> None:
        """The part stops: sample the open interval now and send it, so that a restart (or
        an upgrade) loses none of it; what the exchange does not take within
        :data:`CLOSE_TIMEOUT` is lost (under-billing, never double)."""
        now = time.time()
        interval = self.gate.link.meter_interval
        if now - self._last > max(MAX_GAP * interval, MIN_GAP_SECONDS):
            return  # not backed by samples: not billed (see the module docstring)
        await self._sample(now)
        try:
            await asyncio.wait_for(self.flush(), CLOSE_TIMEOUT)
        except (TimeoutError, httpx.HTTPError) as exc:
            log.warning(
                "%d usage records of %s not sent at stop: %s", len(self.pending), self.part, exc
            )

    async def _sample(self, now: float) -> None:
        self.pending.extend(self.records(await self.holdings(), self._last, now))
        self.pending = self.pending[-MAX_PENDING:]
        self._last = now

    def records(self, holdings: list[Holding], start: float, end: float) -> list[dict[str, Any]]:
        found = []
        for held in holdings:
            grant = self._grant(held, end)
            if grant is None or held.amount <= 0:
                continue
            begins = max(start, grant.start)  # no use is billed before the grant began
            hours = Decimal(str(end - begins)) / 3600
            rid = f"{self.part}:{held.resource_id}:{held.metric}:{int(begins * 1000)}"
            found.append(
                {
                    "record_id": rid,
                    "contract_id": grant.id,
                    "resource_id": held.resource_id,
                    "resource_type": held.resource_type,
                    "metric": held.metric,
                    "unit": held.unit,
                    "start": begins,
                    "end": end,
                    "quantity": str(
                        ((held.amount * hours) if held.per_hour else held.amount).quantize(NANO)
                    ),
                }
            )
        return found

    def _grant(self, held: Holding, now: float) -> Grant | None:
        for grant in self.gate.live_grants(held.project_id, now):
            if held.metric in grant.metrics and grant.start < now:
                return grant
        return None

    async def flush(self) -> None:
        while self.pending:
            batch = self.pending[:BATCH]
            statement = await self.gate.signer.sign(TYP_USAGE, {"records": batch})
            response = await self._client.post(
                self.gate.link.exchange_url + "/v1/usage", json={"statement": statement}
            )
            if response.status_code >= 400:
                log.warning(
                    "usage of %s refused by the exchange: %s %s",
                    self.part,
                    response.status_code,
                    response.text[:300],
                )
                if response.status_code < 500:
                    del self.pending[:BATCH]  # the exchange will never take it as it is
                return
            self.sent += len(batch)
            del self.pending[:BATCH]


def attach(gate: Gate, part: str, holdings: Holdings) -> Meter:
    """A meter that runs on ``gate``'s rounds."""
    meter = Meter(gate, part, holdings, gate.http)
    gate.ticks.append(meter.tick)
    gate.closers.append(meter.close)
    return meter
