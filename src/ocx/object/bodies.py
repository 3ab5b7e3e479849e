"""What bytes an object's GET returns: one file, or the segments of a large object.

A :class:`Body` is a list of file extents with the object's size and ETag. Large objects
resolve their segments' containers through a ``ContainerOf`` the API layer provides, which
checks that the caller may read them: segments are read with the caller's rights.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio.to_thread

from ocx.common import errors
from ocx.object import dlo, slo
from ocx.object.models import Container, Object
from ocx.object.ranges import Span
from ocx.object.slo import Lookup
from ocx.object.storage import Extent, Storage
from ocx.object.store import Store
from ocx.swift.faults import fault
from ocx.swift.limits import Limits

MAX_DEPTH = 10

ContainerOf = Callable[[str], Awaitable[Container | None]]


@dataclass(frozen=True)
class Body:
    extents: list[Extent]
    size: int
    etag: str
    large: bool = False

    @property
    def etag_header(self) -> str:
        """Large objects' ETags are quoted (they are not an MD5 of the body)."""
        return f'"{self.etag}"' if self.large else self.etag

    def slice(self, span: Span) -> list[Extent]:
        return cut(self.extents, span)


def cut(extents: Sequence[Extent], span: Span) -> list[Extent]:
    """The extents covering bytes ``span`` of the concatenation of ``extents``."""
    start, stop = span
    out: list[Extent] = []
    position = 0
    for extent in extents:
        end = position + extent.length
        lo, hi = max(start, position), min(stop, end)
        if lo < hi:
            out.append(Extent(extent.file_id, extent.offset + lo - position, hi - lo))
        position = end
        if position >= stop:
            break
    return out


class Bodies:
    def __init__(self, store: Store, storage: Storage, limits: Limits):
        self.store = store
        self.storage = storage
        self.limits = limits

    def lookup(self, containers: ContainerOf) -> Lookup:
        async def find(container_name: str, name: str) -> Object | None:
            container = await containers(container_name)
            return None if container is None else await self.store.object(container.id, name)

        return find

    async def resolve(self, obj: Object, containers: ContainerOf) -> Body:
        if obj.kind == "slo":
            return await self._slo(obj, self.lookup(containers), 0)
        if obj.kind == "dlo" and obj.manifest:
            return await self._dlo(obj.manifest, containers)
        return Body([Extent(obj.file_id, 0, obj.size)], obj.size, obj.etag)

    async def manifest(self, obj: Object) -> list[dict[str, object]]:
        data = await anyio.to_thread.run_sync(self.storage.read_all, obj.file_id)
        return slo.load(data)

    async def _slo(self, obj: Object, lookup: Lookup, depth: int) -> Body:
        if depth >= MAX_DEPTH:
            raise fault(errors.Conflict, "Max recursion depth exceeded on a large object.")
        extents: list[Extent] = []
        for entry in await self.manifest(obj):
            extents += await self._segment(entry, lookup, depth)
        return Body(extents, obj.size, obj.etag, large=True)

    async def _segment(self, entry: dict[str, object], lookup: Lookup, depth: int) -> list[Extent]:
        container, name = slo.split_name(str(entry["name"]))
        found = await lookup(container, name)
        if found is None or found.etag != entry["hash"]:
            raise fault(errors.Conflict, f"Object segment no longer valid: {entry['name']}")
        if found.kind == "slo":
            inner = await self._slo(found, lookup, depth + 1)
            return cut(inner.extents, slo.segment_span(entry))
        return cut([Extent(found.file_id, 0, found.size)], slo.segment_span(entry))

    async def _dlo(self, manifest: str, containers: ContainerOf) -> Body:
        container_name, prefix = dlo.parse(manifest)
        container = await containers(container_name)
        segments: list[Object] = []
        if container is not None:
            found = await self.store.segments(container.id, prefix, self.limits.dlo_max_segments)
            segments = [s for s in found if s.kind == ""]
        extents = [Extent(s.file_id, 0, s.size) for s in segments]
        return Body(extents, sum(s.size for s in segments), dlo.etag(segments), large=True)
