"""The conformance gate: an offering is listed only while its landlord's endpoints answer.

Before listing, and then every probe interval, the exchange checks that the landlord's
identity answers its discovery document, that the offered endpoint answers as its service
type should, and that the capabilities the offering claims are visible where they can be
seen without credentials (Swift's ``/info``). A landlord that gives the exchange a probe
credential (an application credential at its identity, best with the reader role) gets the
checks that need a token too: its catalog must list the offering's endpoint, a volume
offering's capabilities must be volume types there (``ssd``), and a compute offering's must
each be offered by a flavor the credential sees (:func:`flavor_offers`: extra spec
``capabilities:fpga`` true, or ``trait:CUSTOM_FPGA`` required). Each check is also an
availability probe; the measured availability is shown beside the promised SLA.
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


async def check(
    client: httpx.AsyncClient,
    identity_url: str,
    row: Offering,
    credential: dict[str, str] | None = None,
) -> Verdict:
    """The gate's verdict on ``row``; with the landlord's probe ``credential`` (an
    application credential at its identity) also what needs a token."""
    found = await _get(client, identity_url + "/v3")
    if isinstance(found, str):
        return Verdict(False, False, f"identity: {found}")
    doc = _json(found)
    if found.status_code != 200 or doc is None or "version" not in doc:
        return Verdict(False, True, f"identity: {identity_url}/v3 is not a Keystone v3 document")
    verdict: Verdict = await SERVICE_CHECKS.get(row.service_type, _answers)(client, row)
    if not verdict.ok or credential is None:
        return verdict
    with_token = await _with_token(client, identity_url, row, credential)
    if not with_token.ok:
        return with_token
    checked = tuple(dict.fromkeys(verdict.checked + with_token.checked))
    return Verdict(True, True, f"{verdict.reason}; {with_token.reason}", checked)


# The catalog types an offering's service type is published under.
CATALOG_TYPES = {"volume": ("block-storage", "volumev3", "volume")}


async def _with_token(
    client: httpx.AsyncClient, identity_url: str, row: Offering, credential: dict[str, str]
) -> Verdict:
    """Log in with the probe credential, find the offering's endpoint in the landlord's
    catalog, and check what a token shows (a volume offering's capabilities as volume types)."""
    token = await _token(client, identity_url, credential)
    if isinstance(token, Verdict):
        return token
    found = await _get_with(client, identity_url + "/v3/auth/catalog", token)
    if isinstance(found, str):
        return Verdict(False, False, f"identity: {found}")
    doc = _json(found) or {}
    types = CATALOG_TYPES.get(row.service_type, (row.service_type,))
    urls = [
        str(e.get("url", ""))
        for s in doc.get("catalog", [])
        if isinstance(s, dict) and s.get("type") in types
        for e in s.get("endpoints", [])
        if isinstance(e, dict) and e.get("interface") == "public"
    ]
    endpoint = row.endpoint.rstrip("/")
    matching = [u for u in urls if u and (endpoint.startswith(u) or u.startswith(endpoint))]
    if not matching:
        return Verdict(
            False, True, f"the landlord's catalog lists no {row.service_type} at {row.endpoint}"
        )
    if row.service_type == "volume":
        return await _volume_types(client, matching[0], token, row)
    if row.service_type == "compute":
        return await _flavor_capabilities(client, matching[0], token, row)
    return Verdict(True, True, "the catalog lists it")


async def _token(
    client: httpx.AsyncClient, identity_url: str, credential: dict[str, str]
) -> str | Verdict:
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": credential["id"], "secret": credential["secret"]},
            }
        }
    }
    try:
        answer = await client.post(
            identity_url + "/v3/auth/tokens?nocatalog", json=body, timeout=PROBE_TIMEOUT
        )
    except httpx.HTTPError as exc:
        return Verdict(False, False, f"identity did not answer a login ({type(exc).__name__})")
    if answer.status_code != 201:
        return Verdict(
            False, True, f"the probe credential is refused by the landlord ({answer.status_code})"
        )
    return str(answer.headers.get("x-subject-token", ""))


async def _get_with(client: httpx.AsyncClient, url: str, token: str) -> httpx.Response | str:
    try:
        return await client.get(url, headers={"X-Auth-Token": token}, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        return f"{url} did not answer ({type(exc).__name__})"


async def _volume_types(client: httpx.AsyncClient, url: str, token: str, row: Offering) -> Verdict:
    found = await _get_with(client, url.rstrip("/") + "/types", token)
    if isinstance(found, str):
        return Verdict(False, False, found)
    doc = _json(found)
    if found.status_code != 200 or doc is None:
        return Verdict(False, True, f"{url}/types answered {found.status_code}")
    names = {str(t.get("name")) for t in doc.get("volume_types", []) if isinstance(t, dict)}
    missing = [c for c in row.capabilities if c not in names]
    if missing:
        return Verdict(
            False,
            True,
            f"claimed capabilities not offered: {', '.join(missing)} (no such volume type)",
        )
    return Verdict(
        True, True, "the catalog lists it, with its volume types", tuple(row.capabilities)
    )


TRUE = ("true", "1", "yes")
# Flavor details with their extra specs (Nova's 2.61).
SPECS_VERSION = {"OpenStack-API-Version": "compute 2.61", "X-OpenStack-Nova-API-Version": "2.61"}


def flavor_offers(specs: dict[str, Any], capability: str) -> bool:
    """Whether a flavor's extra specs offer ``capability``: ``capabilities:<c>`` set true, or
    the placement trait ``trait:CUSTOM_<C>`` (upper case, ``-`` and ``.`` as ``_``) required."""
    if str(specs.get(f"capabilities:{capability}", "")).strip().lower() in TRUE:
        return True
    trait = "trait:CUSTOM_" + capability.upper().replace("-", "_").replace(".", "_")
    return str(specs.get(trait, "")).strip().lower() == "required"


async def _flavor_capabilities(
    client: httpx.AsyncClient, url: str, token: str, row: Offering
) -> Verdict:
    """A compute offering's capabilities must each be offered by a flavor the probe
    credential sees (see :func:`flavor_offers`)."""
    if not row.capabilities:
        return Verdict(True, True, "the catalog lists it")
    where = url.rstrip("/") + "/flavors/detail"
    try:
        found = await client.get(
            where, headers={"X-Auth-Token": token, **SPECS_VERSION}, timeout=PROBE_TIMEOUT
        )
    except httpx.HTTPError as exc:
        return Verdict(False, False, f"{where} did not answer ({type(exc).__name__})")
    doc = _json(found)
    if found.status_code != 200 or doc is None:
        return Verdict(False, True, f"{where} answered {found.status_code}")
    specs = [
        f.get("extra_specs") or {}
        for f in doc.get("flavors", [])
        if isinstance(f, dict) and isinstance(f.get("extra_specs") or {}, dict)
    ]
    missing = [c for c in row.capabilities if not any(flavor_offers(s, c) for s in specs)]
    if missing:
        return Verdict(
            False,
            True,
            f"claimed capabilities not offered: {', '.join(missing)} (no flavor has "
            + ", ".join(f"capabilities:{c}" for c in missing)
            + ")",
        )
    return Verdict(
        True,
        True,
        "the catalog lists it, with flavors for its capabilities",
        tuple(row.capabilities),
    )


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
