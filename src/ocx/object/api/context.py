"""What every object-storage handler needs: the service, the caller and its rights, replies.

:func:`begin` turns a request into a :class:`Call`: the account from the path, the verified
caller (if it sent a token) and helpers that raise Swift's 401/403/404 in Swift's order: a
caller with no rights on a container learns nothing about it, not even whether it exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response

from ocx.common import errors
from ocx.common.auth import Principal, authenticate, token_of
from ocx.object import acl
from ocx.object.acl import Grants, Level
from ocx.object.models import Container, Object
from ocx.object.service import ObjectService
from ocx.swift import names, tempurl
from ocx.swift.faults import fault, not_found
from ocx.swift.limits import Limits

OWNER = Grants(owner=True, read=True, listing=True, write=True)
NOTHING = Grants(owner=False, read=False, listing=False, write=False)


@dataclass
class Call:
    request: Request
    svc: ObjectService
    account: str
    project_id: str
    principal: Principal | None
    temp_url: bool = False
    # A temp URL signed with a container's key reaches that container only (None: the
    # account's key, which reaches the whole account), as in Swift.
    temp_scope: str | None = None
    reseller: bool = False
    _grants: dict[int, Grants] = field(default_factory=dict)

    def for_account(self, account: str) -> Call:
        """The same caller acting on another account (cross-account copies)."""
        if account == self.account:
            return self
        return Call(
            self.request,
            self.svc,
            account,
            names.project_of(account),
            self.principal,
            reseller=self.reseller,
        )

    @property
    def headers(self) -> Headers:
        return self.request.headers

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def limits(self) -> Limits:
        return self.svc.limits

    @property
    def level(self) -> Level:
        if self.temp_url:
            return Level.OWNER if self.temp_scope is None else Level.NONE
        if self.reseller:
            return Level.OWNER
        return acl.level(self.principal, self.project_id)

    def require(self, at_least: Level) -> None:
        if self.level < at_least:
            raise acl.deny(self.principal)

    def grants(self, container: Container) -> Grants:
        if self.temp_url:
            return OWNER if self._in_scope(container.name) else NOTHING
        if self.reseller:
            return OWNER
        if container.id not in self._grants:
            self._grants[container.id] = acl.grants(
                self.principal,
                self.project_id,
                container.read_acl,
                container.write_acl,
                self.headers.get("referer"),
            )
        return self._grants[container.id]

    async def container(self, name: str, need: str) -> Container:
        """The container, if the caller has ``need`` (owner, read, listing or write) on it."""
        return self.check(await self.svc.store.container(self.account, name), need, name)

    async def located(
        self, container: str, name: str, need: str
    ) -> tuple[Container, Object | None]:
        """The container (``need`` checked) and its object of ``name``, in one database trip."""
        found, obj = await self.svc.store.locate(self.account, container, name)
        return self.check(found, need, container), obj

    def _in_scope(self, container: str) -> bool:
        return self.temp_scope is None or self.temp_scope == container

    def check(self, found: Container | None, need: str, name: str) -> Container:
        if found is None:
            # Only those who could see it may learn it is missing.
            seen = self._in_scope(name) if self.temp_url else self.level is not Level.NONE
            if not seen:
                raise acl.deny(self.principal)
            raise not_found()
        if not getattr(self.grants(found), need):
            raise acl.deny(self.principal)
        return found

    async def readable(self, name: str) -> Container | None:
        """A segment container the caller may read, or None if it is not there."""
        if self.temp_url and not self._in_scope(name):
            raise acl.deny(self.principal)
        found = await self.svc.store.container(self.account, name)
        if found is not None and not self.grants(found).read:
            raise acl.deny(self.principal)
        return found

    async def allow_temp_url(self, container: str, obj: str) -> None:
        """Grant this one request if its temp URL signature holds (401 if it does not)."""
        temp = tempurl.TempUrl.from_query(self.query)
        keys: list[tuple[str, str | None]] = []
        account = await self.svc.store.account(self.account)
        if account is not None:
            keys += [(key, None) for key in tempurl.keys_of(account.meta)]
        found = await self.svc.store.container(self.account, container)
        if found is not None:
            keys += [(key, container) for key in tempurl.keys_of(found.meta)]
        method = self.request.method
        self.temp_scope = tempurl.verify(temp, method, self.account, container, obj, keys)
        self.temp_url = True


async def begin(request: Request) -> Call:
    names.check_names(request.path_params, request.scope.get("raw_path"))
    svc: ObjectService = request.app.state.service
    account = request.path_params["account"]
    project_id = names.project_of(account)
    principal = None
    if token_of(request) and "temp_url_sig" not in request.query_params:
        principal = await authenticate(request, svc.verifier)
    reseller = acl.is_reseller(principal, svc.settings.staff_domain)
    return Call(request, svc, account, project_id, principal, reseller=reseller)


async def body(call: Call) -> AsyncIterator[bytes]:
    """The request's body as it arrives; 408 when it stops arriving for ``body_timeout``
    (a client that goes quiet mid-body must not hold a connection and a file forever)."""
    chunks = call.request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(call.svc.body_timeout):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise fault(errors.RequestTimeout) from None
        yield chunk


async def read_small(call: Call, limit: int) -> bytes:
    """A body that must fit in memory (manifests, bulk-delete lists): 413 past ``limit``."""
    data = bytearray()
    async for chunk in body(call):
        data += chunk
        if len(data) > limit:
            raise fault(errors.RequestEntityTooLarge)
    return bytes(data)


def reply(
    status: int,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    content_type: str = "text/html; charset=UTF-8",
) -> Response:
    out = {"Content-Type": content_type, **(headers or {})}
    return Response(body, status_code=status, headers=out)


def swift_timestamp(value: float) -> str:
    return f"{value:016.5f}"
