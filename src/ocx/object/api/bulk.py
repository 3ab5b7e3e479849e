"""Bulk delete (``POST /v1/AUTH_x?bulk-delete``), deleting a static large object with its
segments (``DELETE …?multipart-manifest=delete``), and bulk upload (``PUT …?extract-archive``).

An archive is stored whole first (like any upload: a client that stops sending leaves
nothing), then read member by member in a worker thread, each regular file becoming an
object with the caller's rights, as if it had been PUT on its own.
"""

from __future__ import annotations

import mimetypes
import tarfile
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import anyio
from starlette.responses import Response

from ocx.common import errors
from ocx.object import bulk
from ocx.object.acl import Level
from ocx.object.api.context import Call, body, read_small, reply
from ocx.object.models import Container
from ocx.object.storage import TooLarge
from ocx.swift import names
from ocx.swift.faults import bad_request, fault

CHUNK = 1024 * 1024
BROKEN_ARCHIVE = (tarfile.TarError, EOFError, OSError, zlib.error)


async def delete(call: Call) -> Response:
    body = await read_small(call, 1024 * 1024 * 10)
    pairs = bulk.parse(body, call.limits.max_deletes_per_request)
    return answer(call, await delete_all(call, pairs))


async def delete_all(call: Call, pairs: Sequence[tuple[str, str]]) -> bulk.Outcome:
    outcome = bulk.Outcome()
    for container, obj in pairs:
        path = f"/{container}/{obj}" if obj else f"/{container}"
        try:
            found = await _delete_one(call, container, obj)
        except errors.NotFound:
            found = False
        except errors.OCXError as exc:
            outcome.errors.append((path, f"{exc.status} {exc.title}"))
            continue
        if found:
            outcome.deleted += 1
        else:
            outcome.not_found += 1
    return outcome


async def _delete_one(call: Call, container: str, obj: str) -> bool:
    if not obj:
        call.require(Level.OWNER)
        await call.svc.store.delete_container(call.account, container)
        return True
    found = await call.container(container, "write")
    return await call.svc.remove(found.id, obj) is not None


async def extract(call: Call, container: str | None, prefix: str = "") -> Response:
    """Unpack the tar archive in the body into ``container`` (under ``prefix``), or, at an
    account (``container`` None), into the containers its top directories name."""
    mode = bulk.archive_mode(call.query["extract-archive"])
    storage = call.svc.storage
    try:
        archive = await storage.write(body(call), call.limits.max_file_size)
    except TooLarge:
        raise fault(errors.RequestEntityTooLarge, "Your request is too large.") from None
    try:
        outcome = await _unpack(call, storage.path(archive.file_id), mode, container, prefix)
    finally:
        await storage.remove_all([archive.file_id])
    return answer(call, outcome)


def _open_archive(path: Path, mode: bulk.ArchiveMode) -> tarfile.TarFile:
    return tarfile.open(path, mode)


async def _unpack(
    call: Call, path: Path, mode: bulk.ArchiveMode, container: str | None, prefix: str
) -> bulk.Extracted:
    outcome = bulk.Extracted()
    try:
        with await anyio.to_thread.run_sync(_open_archive, path, mode) as tar:
            while (member := await anyio.to_thread.run_sync(tar.next)) is not None:
                target = (
                    bulk.member_target(member.name, container, prefix) if member.isfile() else None
                )
                if target is not None:
                    await _unpack_one(call, tar, member, target, outcome)
    except BROKEN_ARCHIVE as exc:
        raise bad_request(f"Invalid Tar File: {exc}") from None
    return outcome


async def _unpack_one(
    call: Call,
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    target: tuple[str, str],
    outcome: bulk.Extracted,
) -> None:
    try:
        await _store(call, tar, member, *target)
    except UnicodeEncodeError:
        outcome.errors.append((quote(member.name, errors="replace"), "412 Precondition Failed"))
    except errors.OCXError as exc:
        outcome.errors.append((quote("/".join(target)), f"{exc.status} {exc.title}"))
    else:
        outcome.created += 1


async def _store(
    call: Call, tar: tarfile.TarFile, member: tarfile.TarInfo, container_name: str, name: str
) -> None:
    names.check_container_name(container_name, call.limits)
    names.check_object_name(name, call.limits)
    if member.size > call.limits.max_file_size:
        raise fault(errors.RequestEntityTooLarge, "Your request is too large.")
    container = await _writable(call, container_name)
    source = tar.extractfile(member)
    if source is None:
        return
    written = await call.svc.storage.write(_chunks(source), member.size)
    row: dict[str, Any] = {
        "name": name,
        "content_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "meta": {},
        "headers": {},
        "delete_at": None,
        "kind": "",
        "manifest": None,
        "size": written.size,
        "etag": written.md5,
        "created_at": time.time(),
    }
    await call.svc.commit(container, written, row)


async def _writable(call: Call, name: str) -> Container:
    """The container, made first if missing (by its owner only, as with a PUT)."""
    if await call.svc.store.container(call.account, name) is None:
        call.require(Level.OWNER)
        await call.svc.store.create_container(call.account, name, {"meta": {}})
    return await call.container(name, "write")


async def _chunks(source: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(source.read, CHUNK):
        yield chunk


def answer(call: Call, outcome: bulk.Outcome | bulk.Extracted) -> Response:
    body, content_type = bulk.render(outcome, call.headers.get("accept"))
    return reply(200, body=body, content_type=content_type)
