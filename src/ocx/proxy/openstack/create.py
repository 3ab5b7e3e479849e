"""Where a new server, volume, snapshot or image goes, and one create split over landlords.

In this order: the landlord the client named (``availability_zone``, an ``X-OCX-Landlord``
header, or a qualified reference: flavor ``2@mit``, volume type ``ssd@stor``, image name
``debian@mit``); the landlord of what the new resource is made from (a server's image, a
snapshot's volume, a volume's snapshot or source volume); else the placement policy: home
first, then the customer's other landlords in the order their token lists them (the
topology's trust order), or with the proxy's ``placement = "cheapest"`` the order of the
exchange's broker (:mod:`ocx.proxy.openstack.broker`).

A multi-create (``min_count``/``max_count``) that one landlord's quota cannot hold is split:
each landlord in policy order takes what its quota leaves room for (``GET /limits``), with an
image alike in content (same ``os_hash_value``) at that landlord; the shares are named
``NAME-1…N`` across landlords, and the client gets one 202 with the first server.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from ocx.common import errors
from ocx.proxy import headers as h
from ocx.proxy.errors import Unreachable
from ocx.proxy.openstack import broker, delegate, find, keypairs
from ocx.proxy.openstack.apis import IMAGE, VOLUME, Collection
from ocx.proxy.openstack.call import OsCall, reply, send, send_or_503
from ocx.proxy.openstack.merge import split_qualified
from ocx.proxy.tokens import Backend

# The body key of each create, and the references in it that name a resource of a landlord.
ZONED = {"servers": "server", "volumes": "volume"}


async def create(call: OsCall, collection: Collection) -> Response:
    doc = await call.body()
    landlord, how = await _chosen(call, collection, doc)
    if collection.name == "servers" and landlord is None:
        return await _servers_by_policy(call, collection, doc)
    if landlord is None:
        landlord, how = await _by_policy(call)
    backend = await call.session.backend(landlord)
    if collection.name == "servers":
        await _alike_image(call, backend, doc["server"])
        await keypairs.carry(call, backend, doc["server"])
    return await _send_create(call, collection, backend, doc, how)


async def _alike_image(call: OsCall, backend: Backend, server: dict[str, Any]) -> None:
    """A server placed at a landlord boots from that landlord's copy of its image (same
    content); without one there, the reference is sent as it is (the landlord answers)."""
    image = server.get("imageRef")
    if not isinstance(image, str) or not image:
        return
    try:
        fingerprint = await _image_fingerprint(call, image)
    except errors.NotFound:
        return
    own = await _image_at(call, backend, image, fingerprint)
    if own is not None:
        server["imageRef"] = own
    else:
        server.update(await _remote_image(call, backend, fingerprint))


async def _remote_image(call: OsCall, compute: Backend, fingerprint: Fingerprint) -> dict[str, str]:
    """The boot keys that make ``compute``'s landlord fetch the image from its own landlord
    with a delegation for that image (the compute keeps the bytes for the next server)."""
    images = call.session_for(IMAGE)
    holder = await images.backend(fingerprint.landlord)
    grant = await delegate.grant(call, compute, holder, {"image_id": fingerprint.image_id})
    return {
        "imageRef": fingerprint.image_id,
        "ocx:image_landlord": fingerprint.landlord,
        "ocx:image_delegation": grant,
    }


async def _send_create(
    call: OsCall, collection: Collection, backend: Backend, doc: dict[str, Any], how: str
) -> Response:
    path = f"{call.api.base}/{collection.name}"
    answer = await send_or_503(call, backend, "POST", path, body=json.dumps(doc).encode())
    response = reply(call, backend, answer)
    response.headers[h.PLACEMENT] = how
    if answer.status_code < 300:
        _remember_new(call, collection, answer.content, backend.landlord)
    return response


def _remember_new(call: OsCall, collection: Collection, body: bytes, landlord: str) -> None:
    try:
        doc = json.loads(body)
    except ValueError:
        return
    made = doc.get(collection.member, doc) if isinstance(doc, dict) else None
    if isinstance(made, dict) and isinstance(made.get("id"), str):
        find.remember(call, collection, made["id"], landlord)


async def _chosen(
    call: OsCall, collection: Collection, doc: dict[str, Any]
) -> tuple[str | None, str]:
    """The landlord the request names or implies (rewriting the body for it), or None."""
    ranks = await call.session.ranks()
    header = (call.request.headers.get(h.LANDLORD) or "").strip() or None
    body = doc.get(collection.member) if collection.member in doc else doc
    if not isinstance(body, dict):
        raise errors.BadRequest(f"The body must be {{{collection.member!r}: {{...}}}}.")
    named = _named(body, collection, ranks)
    landlord = header or named
    if header and named and header != named:
        raise errors.BadRequest(f"The request names landlord {named}, but X-OCX-Landlord {header}.")
    if landlord is not None:
        if landlord not in ranks:
            raise errors.BadRequest(f"Availability zone {landlord!r} is not one of your landlords.")
        return landlord, "explicit"
    source = await _source_landlord(call, collection, body)
    return source, "with its source"


def _named(body: dict[str, Any], collection: Collection, ranks: dict[str, int]) -> str | None:
    """A landlord named in the body: its zone or a qualified reference (made bare here)."""
    found: set[str] = set()
    if collection.name in ZONED and body.get("availability_zone"):
        zone = str(body.pop("availability_zone"))
        if zone not in ranks:
            raise errors.BadRequest(
                f"The requested availability zone {zone!r} is not available: it is not one of "
                f"your landlords ({', '.join(ranks)})."
            )
        found.add(zone)
    for key in ("flavorRef", "volume_type", "name" if collection.name == "images" else ""):
        if key and isinstance(body.get(key), str):
            bare, landlord = split_qualified(body[key], ranks)
            if landlord is not None:
                body[key] = bare
                found.add(landlord)
    if len(found) > 1:
        raise errors.BadRequest(f"The request names more than one landlord: {sorted(found)}.")
    return found.pop() if found else None


async def _source_landlord(
    call: OsCall, collection: Collection, body: dict[str, Any]
) -> str | None:
    sources = {
        "servers": [(IMAGE, "images", body.get("imageRef"))],
        "volumes": [
            (VOLUME, "snapshots", body.get("snapshot_id")),
            (VOLUME, "volumes", body.get("source_volid")),
            (IMAGE, "images", body.get("imageRef")),
        ],
        "snapshots": [(VOLUME, "volumes", body.get("volume_id"))],
        "attachments": [(VOLUME, "volumes", body.get("volume_uuid"))],
    }
    for api, name, rid in sources.get(collection.name, []):
        if isinstance(rid, str) and rid:
            other = OsCall(call.request, call.svc, api, call.session_for(api))
            coll = api.collection(name)
            assert coll is not None
            if collection.name == "servers":
                return None  # a server's image is followed by the policy (images alike)
            try:
                return (await find.find(other, coll, rid)).landlord
            except errors.NotFound:
                if api is not IMAGE:
                    raise
                # Cinder's answer to an image it cannot read is 400, not the image's 404.
                raise errors.BadRequest(
                    f"Invalid image identifier or unable to access requested image: {rid}."
                ) from None
    return None


async def _by_policy(call: OsCall) -> tuple[str, str]:
    """The first landlord running the API that answers, in the policy's order (the broker's
    for ``cheapest``; else home first, then the token's order), and the policy's reason."""
    candidates = await call.session.candidates()
    order = await broker.order(call, [c.name for c in candidates])
    for candidate in sorted(candidates, key=lambda c: order.key(c.name, c.rank)):
        try:
            await call.session.backend(candidate.name)
        except errors.NotFound:
            continue
        return candidate.name, order.reason
    raise errors.ServiceUnavailable(f"None of your landlords can take this {call.api.name} create.")


@dataclass(frozen=True)
class Room:
    """A landlord as a place for servers: how many fit its quota, and its id of the image."""

    backend: Backend
    fits: int
    image: str | None
    remote: Fingerprint | None = None  # an image only elsewhere, booted with a delegation


async def _boot_image(call: OsCall, room: Room, server: dict[str, Any]) -> dict[str, str]:
    if room.remote is not None:
        return await _remote_image(call, room.backend, room.remote)
    return {"imageRef": room.image or server.get("imageRef", "")}


async def _servers_by_policy(call: OsCall, collection: Collection, doc: dict[str, Any]) -> Response:
    server = doc["server"]
    low, high = _counts(server)
    rooms, how = await _rooms(call, server)
    if not rooms:
        raise errors.ServiceUnavailable("None of your landlords can take this server create.")
    first = rooms[0]
    if first.fits >= high or len(rooms) == 1:
        one = {**doc, "server": {**server, **await _boot_image(call, first, server)}}
        await keypairs.carry(call, first.backend, server)
        return await _send_create(call, collection, first.backend, one, how)
    shares = _split(rooms, low, high)
    if not shares:
        total = sum(r.fits for r in rooms)
        raise errors.Forbidden(
            f"Quota exceeded for instances: Requested {low}, but your landlords have room for "
            f"{total} ({', '.join(f'{r.backend.landlord}: {r.fits}' for r in rooms)})."
        )
    return await _split_create(call, collection, doc, shares)


def _counts(server: dict[str, Any]) -> tuple[int, int]:
    low, high = server.get("min_count", 1), server.get("max_count", server.get("min_count", 1))
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (low, high)):
        raise errors.BadRequest("min_count and max_count must be integers of at least 1.")
    if low > high:
        raise errors.BadRequest("min_count must be <= max_count")
    return int(low), int(high)


def _split(rooms: list[Room], low: int, high: int) -> list[tuple[Room, int]]:
    """Each landlord in order takes what fits until ``high``; empty if below ``low``."""
    shares, left = [], high
    for room in rooms:
        take = min(room.fits, left)
        if take > 0:
            shares.append((room, take))
            left -= take
    return shares if high - left >= low else []


async def _split_create(
    call: OsCall, collection: Collection, doc: dict[str, Any], shares: list[tuple[Room, int]]
) -> Response:
    server = doc["server"]
    starts, index = [], 1
    for _, count in shares:
        starts.append(index)
        index += count

    async def one(room: Room, count: int, start: int) -> Any:
        await keypairs.carry(call, room.backend, server)
        hints = {**(doc.get("os:scheduler_hints") or {}), "ocx:first_index": str(start)}
        body = {
            **doc,
            "server": {**server, "min_count": count, "max_count": count,
                       **await _boot_image(call, room, server)},
            "os:scheduler_hints": hints,
        }  # fmt: skip
        path = f"{call.api.base}/{collection.name}"
        return await send(call, room.backend, "POST", path, body=json.dumps(body).encode())

    answers = await asyncio.gather(
        *(one(r, c, s) for (r, c), s in zip(shares, starts, strict=True)), return_exceptions=True
    )
    return _split_answer(call, collection, shares, answers)


def _split_answer(
    call: OsCall, collection: Collection, shares: list[tuple[Room, int]], answers: list[Any]
) -> Response:
    """One 202 with the first server if any share was taken; the failures in a header."""
    failed, first = [], None
    for (room, count), answer in zip(shares, answers, strict=True):
        name = room.backend.landlord
        if isinstance(answer, BaseException):
            failed.append(f"{name} ({count}: {getattr(answer, 'reason', type(answer).__name__)})")
        elif answer.status_code >= 300:
            failed.append(f"{name} ({count}: answered {answer.status_code})")
        elif first is None:
            first = (room, answer)
    if first is None:
        raise errors.ServiceUnavailable(f"No landlord took the servers: {', '.join(failed)}.")
    room, answer = first
    response = reply(call, room.backend, answer)
    _remember_new(call, collection, answer.content, room.backend.landlord)
    split = ", ".join(f"{r.backend.landlord}: {c}" for r, c in shares)
    response.headers[h.PLACEMENT] = f"split ({split})"
    if failed:
        response.headers[h.MISSING] = ", ".join(failed)
    return response


async def _rooms(call: OsCall, server: dict[str, Any]) -> tuple[list[Room], str]:
    """Every landlord with room for at least one such server, in policy order; the policy's
    reason."""
    image = server.get("imageRef") or ""
    fingerprint = await _image_fingerprint(call, image) if image else None
    order = await broker.order(call, [c.name for c in await call.session.candidates()])

    async def room(backend: Backend) -> Room | None:
        flavor, limits = await asyncio.gather(
            _json(call, backend, f"/v2.1/flavors/{server.get('flavorRef')}", "flavor"),
            _json(call, backend, "/v2.1/limits", "limits"),
        )
        if flavor is None or limits is None:
            return None
        own = await _image_at(call, backend, image, fingerprint) if image else None
        fits = _fits(limits.get("absolute") or {}, flavor)
        if image and own is None:
            return Room(backend, fits, None, remote=fingerprint)
        return Room(backend, fits, own)

    results = await call.session.fan_out(room, "placing servers")
    found = [r for _, r in results.answers if r is not None and r.fits > 0]
    # In the policy's order; under the same price, a landlord that holds the image (or one
    # alike) comes before one that must fetch it.
    ranked = sorted(found, key=lambda r: (r.remote is not None, r.backend.rank))
    ranked.sort(key=lambda r: order.key(r.backend.landlord, 0)[0])
    return ranked, order.reason


def _fits(absolute: dict[str, Any], flavor: dict[str, Any]) -> int:
    def left(limit: str, used: str, per: int) -> float:
        most = absolute.get(limit, -1)
        if not isinstance(most, int) or most < 0 or per <= 0:
            return float("inf")
        return (most - int(absolute.get(used) or 0)) // per

    room = min(
        left("maxTotalInstances", "totalInstancesUsed", 1),
        left("maxTotalCores", "totalCoresUsed", int(flavor.get("vcpus") or 0)),
        left("maxTotalRAMSize", "totalRAMUsed", int(flavor.get("ram") or 0)),
    )
    return int(min(room, 1_000_000))


async def _json(call: OsCall, backend: Backend, path: str, key: str) -> dict[str, Any] | None:
    answer = await send(call, backend, "GET", path, query="")
    if answer.status_code != 200:
        return None
    found = answer.json().get(key)
    return found if isinstance(found, dict) else None


@dataclass(frozen=True)
class Fingerprint:
    landlord: str
    image_id: str
    name: str
    digest: str | None


async def _image_fingerprint(call: OsCall, image_id: str) -> Fingerprint:
    images = OsCall(call.request, call.svc, IMAGE, call.session_for(IMAGE))
    coll = IMAGE.collection("images")
    assert coll is not None
    found = await find.find(images, coll, image_id)
    answer = await send_or_503(images, found.backend, "GET", f"/v2/images/{found.bare}", query="")
    doc = answer.json() if answer.status_code == 200 else {}
    return Fingerprint(found.landlord, found.bare, str(doc.get("name")), doc.get("os_hash_value"))


async def _image_at(
    call: OsCall, backend: Backend, image: str, fingerprint: Fingerprint | None
) -> str | None:
    """The landlord's id of an image alike in content to the client's (None if it has none)."""
    if fingerprint is None or backend.landlord == fingerprint.landlord:
        return image
    if fingerprint.digest is None:
        return None
    images = OsCall(call.request, call.svc, IMAGE, call.session_for(IMAGE))
    try:
        there = await images.session.backend(backend.landlord)
        query = urlencode({"name": fingerprint.name, "status": "active"})
        answer = await send(images, there, "GET", "/v2/images", query=query)
    except (errors.OCXError, Unreachable):
        return None
    if answer.status_code != 200:
        return None
    for item in answer.json().get("images") or []:
        if isinstance(item, dict) and item.get("os_hash_value") == fingerprint.digest:
            return str(item["id"])
    return None
