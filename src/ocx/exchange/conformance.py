"""The conformance gate: an offering is listed only while its landlord's endpoints answer.

Before listing, and then every probe interval, the exchange checks that the landlord's
identity answers its discovery document, that the offered endpoint answers as its service
type should, and that the capabilities the offering claims are visible where they can be
seen without credentials (Swift's ``/info``). Each check is also an availability probe;
the measured availability is shown beside the promised SLA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ocx.exchange.models import Offering

PROBE_TIMEOUT = 5.0

# Swift /info keys that prove an object-store capability; other capabilities are taken on
# the landlord's word (their names are shown, but not in capabilities_checked).
SWIFT_CAPABILITIES = {
    "tempurl": "tempurl",
    "slo": "slo",
    "bulk_delete": "bulk_delete",
    "versioned_writes": "versioned_writes",
}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reachable: bool
    reason: str
    checked: tuple[str, ...] = ()


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response | str:
    try:
        return await client.get(url, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        return f"{url} did not answer ({type(exc).__name__})"


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        doc = response.json()
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


async def check(client: httpx.AsyncClient, identity_url: str, row: Offering) -> Verdict:
    found = await _get(client, identity_url + "/v3")
    if isinstance(found, str):
        return Verdict(False, False, f"identity: {found}")
    doc = _json(found)
    if found.status_code != 200 or doc is None or "version" not in doc:
        return Verdict(False, True, f"identity: {identity_url}/v3 is not a Keystone v3 document")
    return await SERVICE_CHECKS.get(row.service_type, _answers)(client, row)


async def _answers(client: httpx.AsyncClient, row: Offering) -> Verdict:
    found = await _get(client, row.endpoint)
    if isinstance(found, str):
        return Verdict(False, False, found)
    if found.status_code >= 500:
        return Verdict(False, False, f"{row.endpoint} answered {found.status_code}")
    return Verdict(True, True, "endpoint answers")


async def _swift(client: httpx.AsyncClient, row: Offering) -> Verdict:
    base = row.endpoint.split("/v1/", 1)[0].split("/v1", 1)[0]
    found = await _get(client, base + "/info")
    if isinstance(found, str):
        return Verdict(False, False, found)
    doc = _json(found)
    if found.status_code != 200 or doc is None or "swift" not in doc:
        return Verdict(False, True, f"{base}/info is not a Swift capabilities document")
    missing = [c for c in row.capabilities if c in SWIFT_CAPABILITIES and c not in doc]
    if missing:
        return Verdict(False, True, f"claimed capabilities not offered: {', '.join(missing)}")
    checked = tuple(c for c in row.capabilities if c in SWIFT_CAPABILITIES)
    return Verdict(True, True, "Swift answers /info", checked)


async def _healthz(client: httpx.AsyncClient, row: Offering) -> Verdict:
    found = await _get(client, row.endpoint + "/healthz")
    if isinstance(found, str):
        return Verdict(False, False, found)
    if found.status_code != 200:
        return Verdict(False, True, f"{row.endpoint}/healthz answered {found.status_code}")
    return Verdict(True, True, "endpoint healthy")


Check = Callable[[httpx.AsyncClient, Offering], Any]
SERVICE_CHECKS: dict[str, Check] = {
    "object-store": _swift,
    "proxy": _swift,
    "exchange": _healthz,
}


def apply(row: Offering, verdict: Verdict, now: float) -> None:
    row.probes_total += 1
    row.probes_ok += int(verdict.reachable and verdict.ok)
    row.checked_at = now
    row.status = "listed" if verdict.ok else "delisted"
    row.status_reason = verdict.reason
    row.capabilities_checked = list(verdict.checked)
