"""One provider's object store, as the vault uses it: Swift over HTTP with the customer's
token there (a K2K token away from home), streamed both ways, with deadlines.

What the vault keeps in its container at each provider (``ocx-vault`` by default):

    m/<name id>/<version>.<revision>   that provider's manifest copy
    t/<object id>/<slot>               the share's tree leaves
    d/<object id>/<slot>/<part>        the share itself, in parts
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session

from ocx.common import outbound
from ocx.vault.ranged import FAILURES, Connections, Reply

CONTAINER = "ocx-vault"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
LIST_PAGE = 1000
MAX_SMALL = 64 * 1024 * 1024  # manifests and trees (a tree is 32 bytes per segment)
ACCESS_KEPT = 5.0  # seconds a session's token and storage URL are used before it is asked again


class StoreError(Exception):
    def __init__(self, landlord: str, kind: str, detail: str):
        super().__init__(f"{landlord}: {detail}")
        self.landlord, self.kind, self.detail = landlord, kind, detail


@dataclass(frozen=True)
class Access:
    storage_url: str
    token: str


class SessionAuth:
    """Storage URL and token from a keystoneauth1 session (renewed when it expires).

    What the session answers is kept for :data:`ACCESS_KEPT` seconds: asking it costs
    ~0.1 ms (it parses the token's expiry anew each time), and a read asks once per request,
    ten times at least, from several threads at once, each holding the GIL meanwhile
    (measured: 14% of the client's GIL time in a 64 MiB read). The session itself renews
    a token two minutes before it expires, so a kept one is never a dead one; a token
    refused anyway (revoked) is renewed at once (``renew``)."""

    def __init__(self, session: ks_session.Session, region: str | None = None):
        self.session = session
        self.region = region
        self._kept: tuple[float, Access] | None = None

    def __call__(self, renew: bool = False) -> Access:
        kept, now = self._kept, time.monotonic()
        if kept is not None and not renew and now - kept[0] < ACCESS_KEPT:
            return kept[1]
        if renew:
            self.session.invalidate()
        url = self.session.get_endpoint(
            service_type="object-store", interface="public", region_name=self.region
        )
        token = self.session.get_token()
        if not url or not token:
            raise LookupError("no object store in the catalog")
        access = Access(str(url), str(token))
        self._kept = (now, access)
        return access


class Store:
    def __init__(
        self,
        landlord: str,
        auth: Callable[[bool], Access],
        container: str = CONTAINER,
        timeout: httpx.Timeout = TIMEOUT,
    ):
        self.landlord = landlord
        self.container = container
        self._auth = auth
        self._access: Access | None = None
        self._client = outbound.client(timeout=timeout)
        self._bulk = Connections()  # share data: see ranged.py
        self._small = Connections()  # manifests, trees, listings: GETs over http.client too
        self.requests = 0  # HTTP requests sent (for the benchmark's accounting)
        self._counting = threading.Lock()

    def _sent(self) -> None:
        with self._counting:
            self.requests += 1

    def close(self) -> None:
        self._client.close()
        self._bulk.close()
        self._small.close()

    def access(self, renew: bool = False) -> Access:
        """The storage URL and a token; asked of the auth each time, which keeps a token
        until shortly before it expires (keystoneauth1 does), so long work never holds a
        dead one."""
        try:
            self._access = self._auth(renew)
        except (ks_exceptions.ClientException, LookupError, OSError) as exc:
            raise StoreError(self.landlord, "unreachable", f"cannot log in: {exc}") from exc
        return self._access

    def url(self, name: str = "", access: Access | None = None) -> str:
        where = access or self.access()
        base = f"{where.storage_url.rstrip('/')}/{quote(self.container)}"
        return f"{base}/{quote(name)}" if name else base

    def _request(self, method: str, name: str, **kwargs: Any) -> httpx.Response:
        for attempt in (0, 1):
            headers = {**kwargs.pop("headers", {}), "X-Auth-Token": self.access().token}
            self._sent()
            try:
                resp = self._client.request(method, self.url(name), headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise StoreError(self.landlord, "unreachable", type(exc).__name__) from exc
            if resp.status_code != 401 or attempt or "content" in kwargs:
                return resp
            self.access(renew=True)
        raise AssertionError("unreachable")

    def _check(self, resp: httpx.Response, what: str) -> httpx.Response:
        if resp.status_code == 404:
            raise StoreError(self.landlord, "missing", f"{what}: not there")
        if resp.status_code >= 300:
            raise StoreError(self.landlord, "unreachable", f"{what}: {resp.status_code}")
        return resp

    def ensure(self) -> None:
        self._check(self._request("PUT", ""), "create container")

    def put(self, name: str, content: bytes | Iterable[bytes]) -> None:
        self._check(self._request("PUT", name, content=content), f"put {name}")

    def get(self, name: str, limit: int = MAX_SMALL) -> bytes:
        """A whole small object (a manifest copy, a tree): at most ``limit`` bytes."""
        reply = self._fetch(self._small, name)
        try:
            status = reply.response.status
            if status == 404:
                raise StoreError(self.landlord, "missing", f"get {name}: not there")
            if status >= 300:
                raise StoreError(self.landlord, "unreachable", f"get {name}: {status}")
            data = self._read(reply, limit + 1)
        finally:
            self._small.release(reply)
        if len(data) > limit:
            raise StoreError(self.landlord, "corrupt", f"{name} is too large")
        return data

    @contextlib.contextmanager
    def ranged(self, name: str, start: int, length: int) -> Iterator[Span]:
        """Bytes ``start`` .. ``start + length - 1`` of the object, read in order (see
        :class:`Span`)."""
        reply = self._ranged_reply(name, f"bytes={start}-{start + length - 1}")
        try:
            status = reply.response.status
            if status == 416:
                raise StoreError(self.landlord, "truncated", f"{name} is shorter than expected")
            if status == 404:
                raise StoreError(self.landlord, "missing", f"get {name}: not there")
            if status not in (200, 206):
                raise StoreError(self.landlord, "unreachable", f"get {name}: {status}")
            yield Span(self, reply)
        finally:
            self._bulk.release(reply)

    def _ranged_reply(self, name: str, span: str) -> Reply:
        return self._fetch(self._bulk, name, {"Range": span})

    def _fetch(
        self, pool: Connections, name: str, headers: dict[str, str] | None = None, query: str = ""
    ) -> Reply:
        """A GET over one of ``pool``'s kept-alive connections (with a new token once,
        when the server refuses the one held): its reply, to be given back to ``pool``."""
        for renew in (False, True):
            access = self.access(renew)
            sent = {**(headers or {}), "X-Auth-Token": access.token}
            self._sent()
            try:
                reply = pool.get(self.url(name, access) + query, sent)
            except FAILURES as exc:
                raise StoreError(self.landlord, "unreachable", type(exc).__name__) from exc
            if reply.response.status != 401 or renew:
                return reply
            pool.release(reply)
        raise AssertionError("unreachable")

    def _read(self, reply: Reply, size: int) -> bytes:
        try:
            data = reply.read(size)
        except FAILURES as exc:
            raise StoreError(self.landlord, "unreachable", type(exc).__name__) from exc
        if len(data) < size and reply.cut():
            raise StoreError(self.landlord, "unreachable", "the connection was cut")
        return data

    def _read_into(self, reply: Reply, view: memoryview) -> int:
        done = 0
        try:
            while done < len(view):
                got = reply.response.readinto(view[done:])
                if not got:
                    break
                done += got
        except FAILURES as exc:
            raise StoreError(self.landlord, "unreachable", type(exc).__name__) from exc
        if done < len(view) and reply.cut():
            raise StoreError(self.landlord, "unreachable", "the connection was cut")
        return done

    def list(self, prefix: str) -> list[str]:
        names: list[str] = []
        marker = ""
        while True:
            query = {"format": "json", "prefix": prefix, "marker": marker, "limit": LIST_PAGE}
            reply = self._fetch(self._small, "", query=f"?{urlencode(query)}")
            try:
                status = reply.response.status
                if status == 404:
                    return names
                if status >= 300:
                    raise StoreError(self.landlord, "unreachable", f"list: {status}")
                body = self._read(reply, MAX_SMALL + 1)
            finally:
                self._small.release(reply)
            try:
                page = json.loads(body) if status == 200 else []
                names += [str(entry["name"]) for entry in page]
            except (ValueError, TypeError, KeyError) as exc:
                raise StoreError(self.landlord, "unreachable", f"list: {exc!r}") from None
            if len(page) < LIST_PAGE:
                return names
            marker = names[-1]

    def delete(self, name: str) -> None:
        resp = self._request("DELETE", name)
        if resp.status_code != 404:
            self._check(resp, f"delete {name}")


class Span:
    """A ranged GET's body, read in order: ``span(size)`` is its next ``size`` bytes,
    ``span.into(view)`` reads the next ``len(view)`` of them straight from the socket into
    ``view`` and says how many; fewer only where the object ends first."""

    def __init__(self, store: Store, reply: Reply):
        self._store, self._reply = store, reply

    def __call__(self, size: int) -> bytes:
        return self._store._read(self._reply, size)

    def into(self, view: memoryview) -> int:
        return self._store._read_into(self._reply, view)


def manifest_prefix(name_id: str) -> str:
    return f"m/{name_id}/"


def manifest_path(name_id: str, version: int, revision: int) -> str:
    return f"m/{name_id}/{version:020d}.{revision:06d}"


def parse_manifest_path(path: str) -> tuple[int, int] | None:
    stem = path.rsplit("/", 1)[-1]
    version, _, revision = stem.partition(".")
    if not (version.isdigit() and revision.isdigit()):
        return None
    return int(version), int(revision)


def tree_path(object_id: str, slot: int) -> str:
    return f"t/{object_id}/{slot}"


def part_path(object_id: str, slot: int, part: int) -> str:
    return f"d/{object_id}/{slot}/{part:06d}"
