"""One request's view of a customer's combined account for one service: their landlords, a
backend at each (the right token and URLs), and calls to them, alone or all at once.

The service is a catalog type (``object-store``, ``compute``, ``block-storage``, ``image``):
a landlord that does not run it is, for this session, a landlord where the customer has
nothing (:class:`~ocx.proxy.errors.Absent`), never an outage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ocx.common import errors
from ocx.proxy import upstream
from ocx.proxy.errors import Absent, Unreachable, unavailable
from ocx.proxy.fanout import Results, fan_out
from ocx.proxy.landlords import OBJECT_STORE, Caller, Candidate
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Body, Response, Url, parse_url

if TYPE_CHECKING:
    from ocx.proxy.service import ProxyService

T = TypeVar("T")


class Session:
    def __init__(
        self,
        svc: ProxyService,
        caller: Caller,
        hops: Sequence[str],
        service: str = OBJECT_STORE,
    ):
        self.svc = svc
        self.caller = caller
        self.hops = hops
        self.service = service
        self._candidates: Sequence[Candidate] | None = None

    @property
    def account_key(self) -> tuple[str, str]:
        return self.caller.account_key

    async def candidates(self) -> Sequence[Candidate]:
        if self._candidates is None:
            self._candidates = await self.svc.source.candidates(self.caller)
        return self._candidates

    async def ranks(self) -> dict[str, int]:
        return {c.name: c.rank for c in await self.candidates()}

    async def candidate(self, landlord: str) -> Candidate:
        for found in await self.candidates():
            if found.name == landlord:
                return found
        raise errors.NotFound(f"{landlord!r} is not one of this account's landlords.")

    async def reached(self, landlord: str) -> bool:
        """Whether this caller has a token at ``landlord`` (see :meth:`Translator.reached`)."""
        return self.svc.translator.reached(self.caller, await self.candidate(landlord))

    async def backend(self, landlord: str, container: str | None = None) -> Backend:
        """The landlord's backend, or the request's fault: 404 (nothing there), 503 (down)."""
        try:
            return await self._backend(await self.candidate(landlord))
        except Absent as exc:
            message = f"This account has nothing at {landlord} ({exc.reason})."
            raise errors.NotFound(message) from exc
        except Unreachable as exc:
            raise unavailable(landlord, exc.reason, container) from exc

    async def fan_out(
        self, work: Callable[[Backend], Awaitable[T]], what: str, *, deciding: bool = False
    ) -> Results[T]:
        """``work`` at every landlord at once, each within the fan-out deadline.

        ``deciding``: the outcome decides where a request goes (finding or placing a
        container), and a landlord the caller has reached that stays silent makes it 503. So
        such a landlord is given ``answer_timeout``, the time it would have to begin answering
        the request itself: a landlord that is merely busy is waited for, not reported
        missing. One never reached (federation included) keeps ``fanout_timeout``.
        """

        origins: dict[str, tuple[str, str, int]] = {}

        async def at(candidate: Candidate) -> T:
            backend = await self._backend(candidate)
            url = backend.url(self.service)
            if url is not None:
                origins[candidate.name] = parse_url(url).origin
            return await work(backend)

        def quiet(candidate: Candidate) -> float | None:
            origin = origins.get(candidate.name)
            if origin is None:  # still getting a token there
                return self.svc.translator.federating_since(self.caller, candidate)
            return self.svc.data.quiet_since(origin)

        settings = self.svc.settings
        candidates = await self.candidates()
        patience = settings.read_timeout
        if not deciding:
            return await fan_out(
                candidates, at, settings.fanout_timeout, what, quiet=quiet, patience=patience
            )
        patient = max(settings.fanout_timeout, settings.answer_timeout)
        reached = {c.name for c in candidates if self.svc.translator.reached(self.caller, c)}

        def deadline(candidate: Candidate) -> float:
            return patient if candidate.name in reached else settings.fanout_timeout

        return await fan_out(candidates, at, deadline, what, quiet=quiet, patience=patience)

    async def _backend(self, candidate: Candidate) -> Backend:
        found = await self.svc.translator.backend(self.caller, candidate)
        if found.url(self.service) is None:
            raise Absent(candidate.name, f"no {self.service} service there")
        return found

    async def call(
        self,
        backend: Backend,
        method: str,
        container: str | None = None,
        *,
        query: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> Response:
        url = upstream.target(backend.storage_url, container, None, query)
        return await self.svc.upstream.call(backend, method, url, headers, self.hops, body)

    async def open(
        self,
        backend: Backend,
        method: str,
        url: Url,
        headers: Iterable[tuple[str, str]],
        body: Body = None,
    ) -> Response:
        return await self.svc.upstream.open(backend, method, url, headers, self.hops, body)
