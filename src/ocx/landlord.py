"""What a part knows of its landlord, and the shape every part has.

A part's ``part.py`` builds itself from a :class:`Landlord` (its name, the URLs of its sibling
parts, where its data and database live, how to verify its tokens) and returns a
:class:`Part`. Parts import this module, never the runner; :func:`build` finds a part's
builder through the table in :mod:`ocx.parts`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from starlette.types import ASGIApp

from ocx import parts
from ocx.topology import LandlordConfig, Topology

if TYPE_CHECKING:
    from ocx.common.market import MarketLink
    from ocx.common.settings import VerifierSettings

# ocx.common.db (alembic, SQLAlchemy) and ocx.common.market are imported where they are used:
# `ocx up`'s supervisor uses this module but never those, and they take seconds of CPU.


class Part(Protocol):
    """One running service of a landlord: an ASGI app with a start and a stop.

    ``start`` migrates and bootstraps (it may run in several workers of one part at once:
    what it writes must tolerate that); ``stop`` releases what ``start`` took.
    """

    app: ASGIApp

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class CatalogEndpoint:
    type: str
    name: str
    region: str | None
    url: str


@dataclass
class Landlord:
    """What a part needs to know about its landlord to build itself."""

    config: LandlordConfig
    index: int
    topology: Topology
    data_dir: Path
    database_url: str | None
    admin_password: str
    demo_passwords: dict[str, str] = field(default_factory=dict)
    # Each part's base URL (scheme, host, port; no trailing slash).
    base_urls: dict[str, str] = field(default_factory=dict)
    # Every landlord of the topology (this one too): its parts' base URLs. A part that calls
    # another landlord on a customer's word (compute attaching a volume of another landlord)
    # calls only these, never a URL the customer made up.
    peers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config.name

    def url(self, part: str) -> str:
        return self.base_urls[part]

    def database(self, part: str) -> str:
        """The shared URL (a schema per part is made there), or this part's own SQLite file."""
        from ocx.common.db import sqlite_url

        return self.database_url or sqlite_url(self.data_dir / f"{part}.db")

    @property
    def identity_url(self) -> str:
        return self.base_urls["identity"]

    @property
    def auth_url(self) -> str:
        return self.identity_url + "/v3"

    def market_link(self) -> MarketLink | None:
        """Where this landlord sells (its topology's ``market``), or None."""
        from ocx.common.market import MarketLink

        market = self.config.market
        if market is None:
            return None
        return MarketLink(
            landlord=self.name,
            exchange=market.exchange,
            # The topology checked that market.exchange runs the exchange part.
            exchange_url=(market.url or self.peers[market.exchange]["exchange"]).rstrip("/"),
            identity_url=self.identity_url,
            admin_password=self.admin_password,
            subscribers_only=market.subscribers_only,
            feed_interval=market.feed_interval,
            meter_interval=market.meter_interval,
        )

    def verifier(self) -> VerifierSettings:
        from ocx.common.settings import VerifierSettings

        return VerifierSettings(identity_url=self.identity_url, audience=self.name)

    def peer_url(self, landlord: str, part: str) -> str | None:
        """Where ``landlord`` of this topology serves ``part`` (its catalog URL), if it does."""
        base = self.peers.get(landlord, {}).get(part)
        return None if base is None else base + parts.spec(part).catalog_path

    def catalog_url(self, part: str) -> str:
        return self.base_urls[part] + parts.spec(part).catalog_path

    def catalog(self) -> tuple[CatalogEndpoint, ...]:
        """Every service this landlord runs, as its identity publishes them."""
        return tuple(
            CatalogEndpoint(entry.type, entry.name, entry.region, self._entry_url(part, entry))
            for part in self.config.parts
            for entry in parts.spec(part).catalog
            if entry.needs is None or entry.needs in self.reachable_parts()
        )

    def admitting_catalog(self) -> tuple[CatalogEndpoint, ...]:
        """The services (in the exchange's region) of the landlords that admit this one's
        users: where its customers' compute, volumes and images may be."""
        return tuple(
            CatalogEndpoint(entry.type, entry.name, entry.region, url)
            for lord in self.topology.landlords
            if self.name in lord.trusts
            for part in lord.parts
            if (url := self.peer_url(lord.name, part)) is not None
            for entry in parts.spec(part).catalog
            if entry.region is None
        )

    def reachable_parts(self) -> frozenset[str]:
        """The parts its customers can reach through it: its own, and those of every landlord
        that trusts it (admits its users by K2K)."""
        return frozenset(
            part
            for lord in self.topology.landlords
            if lord.name == self.name or self.name in lord.trusts
            for part in lord.parts
        )

    def _entry_url(self, part: str, entry: parts.Catalog) -> str:
        if entry.path is None:
            return self.catalog_url(part)
        return self.base_urls[entry.part or part] + entry.path


Builder = Callable[[Landlord], Part]


def builder(part: str) -> Builder:
    """The function that builds ``part``, imported from the module its row names."""
    module_name, _, path = parts.spec(part).builder.partition(":")
    found: object = importlib.import_module(module_name)
    for attr in path.split("."):
        found = getattr(found, attr)
    if not callable(found):
        raise TypeError(f"the builder of part {part!r} is not callable")
    return cast(Builder, found)


def build(landlord: Landlord, part: str) -> Part:
    return builder(part)(landlord)
