"""The identity service object: settings, database, keys, verifier and policy, built once."""

from __future__ import annotations

import logging
import time
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ocx.common import errors
from ocx.common.auth import Principal, TokenVerifier
from ocx.common.db import Database, schema_name
from ocx.identity import bootstrap, catalog, credential_keys, keys, tokens
from ocx.identity.authn import Authenticator, AuthRequest, OAuth1Check
from ocx.identity.federation.models import ServiceProvider
from ocx.identity.federation.trust import RemoteKeys
from ocx.identity.models import Endpoint, Region, Service
from ocx.identity.passwords import Hasher
from ocx.identity.policy import Policy
from ocx.identity.settings import IdentitySettings

log = logging.getLogger("ocx.identity")

MIGRATIONS = "ocx.identity:migrations"
# The catalog and the service providers go into every token document (issue and validate)
# but change rarely: they are read once and kept until this process changes one of their
# rows, or at most this long (another worker of the same landlord may have changed them).
CATALOG_TTL = 5.0
CATALOG_ROWS = (Service, Endpoint, Region, ServiceProvider)


class IdentityService:
    def __init__(self, settings: IdentitySettings, db: Database | None = None):
        self.settings = settings
        self.db = db or Database(
            settings.database_url, schema=schema_name(settings.landlord, "identity")
        )
        self.hasher = Hasher(settings.hash_cost)
        self.keys: keys.KeyRing | None = None
        self.policy = Policy(admin_project_id="")
        self.remote_keys = RemoteKeys()
        self.verifier = TokenVerifier(
            identity_url=settings.issuer,
            issuer=settings.issuer,
            audience=settings.landlord,
            fetch_json=self._local_json,
            revocation_interval=0.5,
        )
        self._memo: dict[str, tuple[float, Any]] = {}
        self._credential_cipher: Fernet | None = None
        event.listen(Session, "after_flush", self._after_flush)

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS, "alembic_version_identity")
        async with self.db.session() as session:
            admin_project_id = await bootstrap.bootstrap(session, self.settings, self.hasher)
            operators = await bootstrap.operator_domain(session, self.settings)
        self.policy = Policy(
            admin_project_id=admin_project_id,
            operator_domain_id=operators,
            landlord_domain_id=bootstrap.DEFAULT_DOMAIN,
        )
        await self.reload_keys()
        log.info("identity of %s ready at %s", self.settings.landlord, self.settings.public_url)

    async def stop(self) -> None:
        if event.contains(Session, "after_flush", self._after_flush):
            event.remove(Session, "after_flush", self._after_flush)
        await self.remote_keys.aclose()
        await self.db.dispose()

    @property
    def credential_cipher(self) -> Fernet:
        """The cipher of ``/v3/credentials`` blobs (its key file is read on first use)."""
        if self._credential_cipher is None:
            self._credential_cipher = credential_keys.cipher(self.settings.data_dir)
        return self._credential_cipher

    @property
    def key_lifetime(self) -> float:
        """How long a retired key stays published: as long as any token it signed lives."""
        return self.settings.token_ttl + 300.0

    async def reload_keys(self) -> keys.KeyRing:
        rotate_after = self.settings.key_rotation_days * 86400
        self.keys = await keys.load(self.db, rotate_after=rotate_after, keep_for=self.key_lifetime)
        return self.keys

    async def rotate_keys(self) -> keys.KeyRing:
        self.keys = await keys.rotate(self.db, keep_for=self.key_lifetime)
        return self.keys

    async def _local_json(self, path: str) -> dict[str, Any]:
        if path == "/.well-known/jwks.json":
            return (await self.reload_keys()).jwks()
        return {"events": await self.revocation_events()}

    async def revocation_events(self) -> list[dict[str, Any]]:
        since = time.time() - self.key_lifetime
        async with self.db.session() as session:
            return await tokens.revocation_events(session, since)

    async def verify(self, token: str | None) -> Principal:
        return await self.verifier.verify(token)

    def revoked_something(self) -> None:
        self.verifier.invalidate()

    async def issue(
        self, req: AuthRequest, header_token: str | None, oauth1: OAuth1Check | None = None
    ) -> tuple[str, dict[str, Any]]:
        async with self.db.session() as session:
            grant = await Authenticator(session, self.hasher, self.verify, oauth1).authenticate(
                req, header_token
            )
        return self.sign(grant)

    def sign(self, grant: tokens.Grant) -> tuple[str, dict[str, Any]]:
        assert self.keys is not None
        return tokens.issue(
            grant,
            self.keys,
            issuer=self.settings.issuer,
            audience=self.settings.landlord,
            ttl=self.settings.token_ttl,
        )

    async def service_providers(self) -> list[dict[str, str]]:
        """The K2K service providers this landlord's tokens may be taken to (token bodies)."""
        found = self._remembered("providers")
        if found is None:
            async with self.db.session() as session:
                query = select(ServiceProvider).filter_by(enabled=True).order_by(ServiceProvider.id)
                rows = list(await session.scalars(query))
            found = [{"id": r.id, "auth_url": r.auth_url, "sp_url": r.sp_url} for r in rows]
            self._memo["providers"] = (time.monotonic() + CATALOG_TTL, found)
        return [dict(p) for p in found]

    async def catalog(self, project_id: str | None) -> list[dict[str, Any]]:
        rows = self._remembered("catalog")
        if rows is None:
            async with self.db.session() as session:
                rows = await catalog.load(session)
            self._memo["catalog"] = (time.monotonic() + CATALOG_TTL, rows)
        return catalog.render(rows, project_id)

    def _remembered(self, key: str) -> Any:
        until, value = self._memo.get(key, (0.0, None))
        return value if time.monotonic() < until else None

    def _after_flush(self, session: Session, _context: object) -> None:
        """Forget the catalog and providers when this landlord's session wrote one of them."""
        if session.bind is not self.db.engine.sync_engine or not self._memo:
            return
        for row in (*session.new, *session.dirty, *session.deleted):
            if isinstance(row, CATALOG_ROWS):
                self._memo.clear()
                return

    def require_token_header(self, value: str | None) -> str:
        if not value:
            raise errors.ValidationError("X-Subject-Token is required.")
        return value
