"""The compute service of one landlord: settings, database, hypervisor and the domain parts."""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread

from ocx.common import errors
from ocx.common.auth import Principal, TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.common.market import Gate
from ocx.compute import presenter
from ocx.compute.attach import Attacher, Target
from ocx.compute.boot import BootRequest
from ocx.compute.console import Consoles
from ocx.compute.flavors import Flavors
from ocx.compute.glance import Images
from ocx.compute.guests import Guests
from ocx.compute.hypervisor import Hypervisor
from ocx.compute.keypairs import Keypairs
from ocx.compute.quotas import Quotas
from ocx.compute.remote_images import RemoteImages
from ocx.compute.scheduler import Placement
from ocx.compute.servers import Created, Servers
from ocx.compute.settings import ComputeSettings

log = logging.getLogger("ocx.compute")

MIGRATIONS = "ocx.compute:migrations"


class ComputeService:
    # Set when this landlord sells on an exchange: admission by grant (ocx.common.market).
    market_gate: Gate | None = None

    def __init__(self, settings: ComputeSettings, db: Database | None = None):
        self.settings = settings
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "compute")
        )
        self.consoles = Consoles(
            settings.data_dir / "compute" / "console", settings.console_max_bytes
        )
        self.guests = Guests(self.consoles)
        self.hypervisor = Hypervisor(self.db, settings.timings, self.guests)
        self.placement = Placement(
            settings.hosts,
            settings.cpu_allocation_ratio,
            settings.ram_allocation_ratio,
            settings.disk_allocation_ratio,
        )
        self.flavors = Flavors(self.db)
        self.keypairs = Keypairs(self.db, settings.quotas.get("key_pairs", 100))
        self.quotas = Quotas(self.db, settings.quotas)
        self.images = Images(settings.image_url)
        zones = tuple(sorted({h.zone for h in settings.hosts}))
        self.servers = Servers(
            self.db,
            self.flavors,
            self.keypairs,
            self.quotas,
            self.placement,
            self.hypervisor,
            zones,
        )
        self.attacher = Attacher(
            self.db,
            self.servers,
            self.guests,
            settings.data_dir / "compute" / "nbd",
            settings.host_ip,
            presenter.load_or_create(settings.data_dir / "compute" / "presenter.pem"),
        )
        self.remote_images = RemoteImages(
            settings.data_dir / "compute" / "images",
            settings.image_landlords,
            self.attacher.presenter,
        )
        verifier = settings.verifier
        self.verifier = TokenVerifier(
            identity_url=verifier.identity_url,
            issuer=verifier.identity_url,
            audience=verifier.audience,
            revocation_interval=verifier.revocation_interval,
        )

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_compute")
        await anyio.to_thread.run_sync(self.consoles.prepare)
        await self.flavors.seed(self.settings.flavors)
        await self.servers.load()
        self.hypervisor.start()
        await self.hypervisor.resume()
        await self.attacher.restore()
        log.info("compute of %s ready at %s", self.settings.landlord, self.settings.public_url)

    async def stop(self) -> None:
        await self.hypervisor.stop()
        await self.guests.stop()
        await self.attacher.aclose()
        await self.images.aclose()
        await self.remote_images.aclose()
        await self.verifier.aclose()
        await self.db.dispose()

    async def verify(self, token: str | None) -> Principal:
        return await self.verifier.verify(token)

    def own_volumes(self, volume_id: str, token: str) -> Target:
        """Where a volume of this landlord lives, reached with the customer's own token."""
        if self.settings.volume_url is None:
            raise errors.NotFound(f"Volume {volume_id} could not be found.")
        return Target(self.settings.landlord, self.settings.volume_url, token)

    def other_volumes(self, args: dict[str, Any]) -> Target | None:
        """Another landlord's volume, named by the OCX extension keys of an attach request.

        Only a landlord of the topology, at the block storage URL the topology gives it: a
        customer cannot make this compute call (and present its proofs to) a URL of its own.
        """
        token = args.get("ocx:delegation")
        if token is None:
            return None
        landlord, url = args.get("ocx:landlord"), args.get("ocx:volume_url")
        if not isinstance(token, str) or not isinstance(landlord, str) or not isinstance(url, str):
            raise errors.BadRequest(
                "ocx:delegation needs ocx:landlord and ocx:volume_url (strings) beside it."
            )
        known = self.settings.volume_landlords.get(landlord)
        if known is None:
            raise errors.BadRequest(
                f"Landlord {landlord[:64]!r} runs no block storage this compute knows of."
            )
        if url.rstrip("/") != known.rstrip("/"):
            raise errors.BadRequest(
                f"ocx:volume_url is not the block storage of {landlord}: that is {known}."
            )
        return Target(landlord, known, token, self.attacher.presenter)

    async def create_servers(
        self, who: Principal, req: BootRequest, image: dict[str, Any] | None, token: str
    ) -> Created:
        """Create the servers of a request. One booting from a volume of this landlord gets it
        attached as its root disk (vda) before the answer; if that fails after the server was
        made, the server goes to ERROR with the reason, as Nova's build does."""
        root = req.volumes[0] if req.volumes else None
        target = None
        if root is not None:
            try:
                target = self.own_volumes(root["uuid"], token)
            except errors.NotFound as exc:
                raise errors.BadRequest(f"Volume {root['uuid']} could not be found.") from exc
            await self.attacher.available(root["uuid"], target)
        made = await self.servers.create(who, req, image)
        if root is not None and target is not None and made.first.host is not None:
            try:
                await self.attacher.attach(
                    who, made.first.id, root["uuid"], target, root=True,
                    delete_on_termination=root["delete_on_termination"],
                )  # fmt: skip
            except errors.OCXError as exc:
                await self.servers.fail(made.first.id, f"Build of instance aborted: {exc.message}")
        return made

    async def delete_server(self, who: Principal, server_id: str, token: str) -> None:
        """Delete a server: its volumes detached, its row and room, then guest and console."""
        server = await self.servers.get(who, server_id)
        if server.locked_by is not None and not who.is_admin:
            raise errors.Conflict(f"Instance {server_id} is locked")
        await self.attacher.detach_all(who, server_id, token)
        await self.servers.delete(who, server_id)
        self.guests.forget(server_id)
        await anyio.to_thread.run_sync(self.consoles.remove, server_id)
