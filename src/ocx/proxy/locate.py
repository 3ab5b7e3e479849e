"""Where a container is, and where a new one goes.

Finding (every request on a container or its objects):

1. a landlord the client named (``photos@mit``, or ``X-OCX-Landlord: mit``) is used as is;
2. else the routing cache's landlord, if it has one (a hint: see :func:`after_404`);
3. else every landlord is asked (``HEAD`` on the container, at once): found at one → cached
   and used; at several → 409 naming the qualified names; at none while some landlord did
   not answer → 503 (it may be there); at none → 404.

Placing (container PUT): an explicit landlord, or the landlord already holding the name, or
the manifest's landlord for a segment container (``<c>_segments``), or else the placement
policy over the landlords that answered (:mod:`ocx.proxy.placement`). A bare name is only
placed when every landlord the caller has reached answered (otherwise it could exist at the
silent one): 503, unless the client names the landlord. A service provider where federation
never succeeded for this caller (its identity silent, down or refusing) holds nothing made
through the proxy, so it only delays the placement by the fan-out deadline and is named in
``X-OCX-Missing-Landlords`` (#17 R3: one bad provider must not fail everyone's PUTs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from ocx.common import errors
from ocx.proxy import names, placement
from ocx.proxy.errors import Unreachable, described
from ocx.proxy.fanout import Results
from ocx.proxy.landlords import Candidate
from ocx.proxy.session import Session
from ocx.proxy.tokens import Backend
from ocx.swift.faults import TEXTS, not_found

PLACEMENT_META = "x-account-meta-ocx-placement"
# What a landlord answers about a name it will not take whoever asks (Swift's length limit,
# bad UTF-8 or NUL).
REFUSED_AS_ASKED = (400, 412)


@dataclass(frozen=True)
class Located:
    backend: Backend
    bare: str  # the container's name at its landlord
    cached: bool = False  # from the routing cache: may be stale
    reason: str = ""  # how it was chosen (X-OCX-Placement on a PUT)
    # Landlords left out of a placement: never reached for this caller (see :func:`place`).
    missing: tuple[Unreachable, ...] = ()

    @property
    def landlord(self) -> str:
        return self.backend.landlord


@dataclass(frozen=True)
class Survey:
    """One landlord's answers about a name: the container's status and the account's headers."""

    backend: Backend
    status: int
    account: Mapping[str, str]


async def explicit(session: Session, raw: str, header: str | None) -> tuple[str, str | None]:
    """The bare name and the landlord the client named, if it did (in the name or a header)."""
    name = names.parse(raw, await session.ranks())
    chosen = (header or "").strip() or None
    if chosen and name.landlord and chosen != name.landlord:
        raise errors.BadRequest(f"{raw!r} names {name.landlord}, but X-OCX-Landlord says {chosen}.")
    landlord = name.landlord or chosen
    if landlord is not None:
        await session.candidate(landlord)  # 404 if it is not one of the account's
    return name.bare, landlord


async def locate(session: Session, raw: str, header: str | None = None) -> Located:
    bare, landlord = await explicit(session, raw, header)
    if landlord is not None:
        return Located(await session.backend(landlord, raw), bare)
    hit = session.svc.routes.get(session.account_key, session.service, bare)
    if hit is not None:
        return Located(await session.backend(hit, bare), bare, cached=True)
    return await discover(session, bare)


async def discover(session: Session, bare: str) -> Located:
    """Ask every landlord for ``bare``; concurrent requests of one caller for one name that is
    not cached share one look (300 clients starting at once ask each landlord once, not 300
    times, and the answer is cached for them all)."""
    key = (session.caller.digest, session.service, bare, *session.hops)
    return await session.svc.finding.run(key, lambda: _discover(session, bare))


async def _discover(session: Session, bare: str) -> Located:
    survey = await session.fan_out(
        lambda b: _status(session, b, bare), f"finding {bare!r}", deciding=True
    )
    return _settle(session, bare, _found(survey), survey.missing) or _absent(bare, survey)


async def after_404(session: Session, located: Located, container_level: bool) -> Located | None:
    """A cached route drew a 404: where to retry, or None to pass the 404 on.

    An object's 404 is the object's when its container is still where the cache says; only
    when the container is gone from there is the cache entry dropped and the name looked up.
    """
    if not located.cached:
        return None
    if not container_level:
        timeout = session.svc.settings.fanout_timeout
        async with asyncio.timeout(timeout):
            _, status = await _status(session, located.backend, located.bare)
        if 200 <= status < 300:
            return None
    session.svc.routes.forget(session.account_key, session.service, located.bare)
    try:
        fresh = await discover(session, located.bare)
    except errors.NotFound:
        return None
    return fresh if fresh.landlord != located.landlord else None


async def place(
    session: Session, raw: str, header: str | None, policy: str | None = None
) -> Located:
    bare, landlord = await explicit(session, raw, header)
    if landlord is not None:
        return Located(await session.backend(landlord, raw), bare, reason="explicit")
    hit = session.svc.routes.get(session.account_key, session.service, bare)
    if hit is not None:
        return Located(await session.backend(hit, bare), bare, cached=True, reason="existing")
    survey = await session.fan_out(
        lambda b: _survey(session, b, bare), f"placing {bare!r}", deciding=True
    )
    found = [(c, s.backend, s.status) for c, s in survey.answers]
    existing = _settle(session, bare, found, survey.missing, "existing")
    if existing is not None:
        return existing
    unsure = [m for m in survey.missing if await session.reached(m.landlord)]
    if unsure:
        raise errors.ServiceUnavailable(
            f"Cannot tell whether container {bare!r} already exists: {described(unsure)} "
            "did not answer. Try again, or name the landlord (X-OCX-Landlord, or "
            f"'{bare}@<landlord>') to create it there regardless."
        )
    with_base = await _with_manifests(session, bare)
    located = with_base or await _by_policy(session, bare, survey, policy)
    return replace(located, missing=tuple(survey.missing))


async def _with_manifests(session: Session, bare: str) -> Located | None:
    """A segment container goes where its manifests' container is (if that exists)."""
    base = names.segments_of(bare)
    if base is None:
        return None
    try:
        found = await locate(session, base)
    except errors.OCXError:
        return None
    return Located(found.backend, bare, reason=f"with {base}")


async def _by_policy(
    session: Session, bare: str, survey: Results[Survey], wanted: str | None
) -> Located:
    policy = _policy(session, survey, wanted)
    prices: Mapping[str, Decimal] = {}
    if policy is placement.Policy.CHEAPEST:
        prices = await session.svc.prices.prices([c.name for c, _ in survey.answers])
    options = [
        placement.option(c.name, c.rank, c.kind == "home", s.account, prices.get(c.name))
        for c, s in survey.answers
    ]
    choice = placement.choose(policy, options)
    if choice is None:
        raise errors.ServiceUnavailable(
            f"The placement policy {policy.value!r} found no landlord for container {bare!r}."
        )
    backend = next(s.backend for c, s in survey.answers if c.name == choice.landlord)
    return Located(backend, bare, reason=choice.reason)


def _policy(session: Session, survey: Results[Survey], wanted: str | None) -> placement.Policy:
    if wanted:
        return placement.parse_policy(wanted)
    home = next((s for c, s in survey.answers if c.kind == "home"), None)
    stored = home.account.get(PLACEMENT_META, "") if home else ""
    if stored:
        try:
            return placement.parse_policy(stored)
        except errors.BadRequest:
            pass  # a typo in the account's metadata falls back to the proxy's default
    return session.svc.settings.placement


def _found(survey: Results[tuple[Backend, int]]) -> list[tuple[Candidate, Backend, int]]:
    return [(c, backend, status) for c, (backend, status) in survey.answers]


def _settle(
    session: Session,
    bare: str,
    answers: Sequence[tuple[Candidate, Backend, int]],
    missing: list[Unreachable],
    reason: str = "",
) -> Located | None:
    """The one landlord that has the container (cached), a 409 for several, else None."""
    for candidate, _, status in answers:
        if status in REFUSED_AS_ASKED:
            # The landlord refuses the request itself (a name it does not accept): that is
            # the answer, not an outage.
            raise errors.from_status(status, TEXTS.get(status))
        if status != 404 and not 200 <= status < 300:
            missing.append(Unreachable(candidate.name, f"answered {status}"))
    holders = [b for _, b, status in answers if 200 <= status < 300]
    if len(holders) > 1:
        choices = " or ".join(repr(names.qualified(bare, b.landlord)) for b in holders)
        raise errors.Conflict(
            f"Container {bare!r} exists at {len(holders)} landlords; address it as {choices}, "
            "or send X-OCX-Landlord."
        )
    if not holders:
        return None
    session.svc.routes.put(session.account_key, session.service, bare, holders[0].landlord)
    return Located(holders[0], bare, reason=reason)


def _absent(bare: str, survey: Results[tuple[Backend, int]]) -> Located:
    if survey.missing:
        raise errors.ServiceUnavailable(
            f"Container {bare!r} is not at any landlord that answered; "
            f"{described(survey.missing)} did not, and it may be there. Try again later."
        )
    raise not_found()


async def _status(session: Session, backend: Backend, bare: str) -> tuple[Backend, int]:
    resp = await session.call(backend, "HEAD", bare)
    return backend, resp.status_code


async def _survey(session: Session, backend: Backend, bare: str) -> Survey:
    container, account = await asyncio.gather(
        session.call(backend, "HEAD", bare), session.call(backend, "HEAD")
    )
    headers = {k.lower(): v for k, v in account.headers.items()}
    return Survey(backend, container.status_code, headers)
