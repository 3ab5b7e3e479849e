"""The image service of one landlord: settings, database, files and token verifier."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable

import anyio.to_thread

from ocx.common import delegation, errors
from ocx.common.auth import Principal, TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.image.files import Files, TooLarge, Written
from ocx.image.models import Image
from ocx.image.settings import ImageSettings
from ocx.image.store import ImageStore

log = logging.getLogger("ocx.image")

MIGRATIONS = "ocx.image:migrations"


class ImageService:
    def __init__(self, settings: ImageSettings, db: Database | None = None):
        self.settings = settings
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "image")
        )
        self.store = ImageStore(self.db, settings.list_scan_max)
        self.files = Files(settings.data_dir / "image", settings.chunk_size)
        verifier = settings.verifier
        self.verifier = TokenVerifier(
            identity_url=verifier.identity_url,
            issuer=verifier.identity_url,
            audience=verifier.audience,
            revocation_interval=verifier.revocation_interval,
        )
        # The proofs that came with image delegations, each accepted once (ocx.image.delegated).
        self.proofs = delegation.ProofChecker()

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_image")
        await anyio.to_thread.run_sync(self.files.prepare)
        log.info("images of %s ready at %s", self.settings.landlord, self.settings.public_url)

    async def stop(self) -> None:
        await self.verifier.aclose()
        await self.db.dispose()

    async def verify(self, token: str | None) -> Principal:
        return await self.verifier.verify(token)

    async def upload(
        self, who: Principal, image_id: str, body: AsyncIterable[bytes], declared: int | None
    ) -> None:
        """Stream the image's data to its file; the image is active only if all of it arrived."""
        await self.store.begin_upload(who, image_id)
        limit = self.settings.max_image_size
        if declared is not None and declared > limit:
            await self.store.finish_upload(image_id, None)
            raise errors.RequestEntityTooLarge(f"Image exceeds the limit of {limit} bytes.")
        written: Written | None = None
        try:
            written = await self.files.write(image_id, body, limit)
            if declared is not None and written.size != declared:
                await self.files.remove(image_id)
                written = None
                raise errors.BadRequest(
                    "The data received is not as long as X-Openstack-Image-Size said."
                )
        except TooLarge as exc:
            raise errors.RequestEntityTooLarge(
                f"Image exceeds the limit of {limit} bytes."
            ) from exc
        finally:
            await self.store.finish_upload(image_id, written)

    async def delete(self, who: Principal, image_id: str) -> None:
        await self.store.delete(who, image_id)
        await self.files.remove(image_id)

    async def open(self, who: Principal, image_id: str) -> tuple[Image, int | None]:
        image = await self.store.readable(who, image_id)
        if image.status != "active":
            return image, None
        return image, self.files.open(image_id)
