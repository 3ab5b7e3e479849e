"""Bulk delete (``POST /v1/AUTH_x?bulk-delete``) and deleting a static large object with its
segments (``DELETE …?multipart-manifest=delete``)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response

from ocx.common import errors
from ocx.object import bulk
from ocx.object.acl import Level
from ocx.object.api.context import Call, read_small, reply


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


def answer(call: Call, outcome: bulk.Outcome) -> Response:
    body, content_type = bulk.render(outcome, call.headers.get("accept"))
    return reply(200, body=body, content_type=content_type)
