"""Which landlord holds a server, volume, image, flavor, … (by id).

1. an id qualified with one of the customer's landlords (``1@mit``: flavors, types) is that
   landlord's;
2. else the routing cache (a hint: a 404 from the landlord it names drops it, and the
   resource is looked for again);
3. else every landlord is asked at once (``GET`` on the member): found at one → cached and
   used; at several (a flavor every landlord has alike) → the first in rank order; at none
   while some landlord did not answer → 503 naming it (it may be there); at none → 404 in the
   API's fault format.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from ocx.common import errors
from ocx.proxy.errors import Unreachable, described
from ocx.proxy.openstack.apis import Collection
from ocx.proxy.openstack.call import OsCall, send
from ocx.proxy.openstack.merge import split_qualified
from ocx.proxy.tokens import Backend

# What a landlord answers for an id that is not its: Nova and Cinder say 404, and 400 for
# an id that cannot be theirs (not a UUID); Glance the same.
NOT_HERE = frozenset({400, 403, 404})


@dataclass(frozen=True)
class Found:
    backend: Backend
    bare: str  # the id at its landlord
    cached: bool = False

    @property
    def landlord(self) -> str:
        return self.backend.landlord


def member_path(call: OsCall, collection: Collection, bare: str) -> str:
    return f"{call.api.base}/{collection.name}/{quote(bare, safe='')}"


def route_key(collection: Collection, bare: str) -> str:
    return f"{collection.name}/{bare}"


async def find(call: OsCall, collection: Collection, rid: str) -> Found:
    session = call.session
    bare, landlord = split_qualified(rid, await session.ranks())
    if landlord is not None:
        return Found(await session.backend(landlord), bare)
    hit = call.svc.routes.get(session.account_key, session.service, route_key(collection, bare))
    if hit is not None:
        return Found(await session.backend(hit), bare, cached=True)
    return await look(call, collection, bare)


async def look(call: OsCall, collection: Collection, bare: str) -> Found:
    session = call.session
    path = member_path(call, collection, bare)

    async def status(backend: Backend) -> tuple[Backend, int]:
        answer = await send(call, backend, "GET", path, query="")
        return backend, answer.status_code

    survey = await session.fan_out(status, f"finding {collection.member} {bare}", deciding=True)
    missing = list(survey.missing)
    holders = []
    for candidate, (backend, code) in survey.answers:
        if code == 200:
            holders.append(backend)
        elif code not in NOT_HERE:
            missing.append(_unreachable(candidate.name, code))
    if holders:
        first = min(holders, key=lambda b: b.rank)
        remember(call, collection, bare, first.landlord)
        return Found(first, bare)
    if missing:
        raise errors.ServiceUnavailable(
            f"{collection.member.capitalize()} {bare} is not at any landlord that answered; "
            f"{described(missing)} did not, and it may be there. Try again later."
        )
    raise not_found(collection, bare)


def remember(call: OsCall, collection: Collection, bare: str, landlord: str) -> None:
    session = call.session
    call.svc.routes.put(session.account_key, session.service, route_key(collection, bare), landlord)


def forget(call: OsCall, collection: Collection, bare: str) -> None:
    session = call.session
    call.svc.routes.forget(session.account_key, session.service, route_key(collection, bare))


def not_found(collection: Collection, rid: str) -> errors.OCXError:
    what = collection.member.replace("_", " ").capitalize()
    return errors.NotFound(f"{what} {rid} could not be found.")


def _unreachable(landlord: str, code: int) -> Unreachable:
    return Unreachable(landlord, f"answered {code}")
