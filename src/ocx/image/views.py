"""Glance v2 bodies: an image, a member, a list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocx.image.models import Image, Member


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image(i: Image) -> dict[str, Any]:
    body: dict[str, Any] = {
        **i.properties,
        "id": i.id,
        "name": i.name,
        "status": i.status,
        "visibility": i.visibility,
        "protected": i.protected,
        "os_hidden": i.os_hidden,
        "checksum": i.checksum,
        "os_hash_algo": i.os_hash_algo,
        "os_hash_value": i.os_hash_value,
        "size": i.size,
        "virtual_size": i.virtual_size,
        "min_disk": i.min_disk,
        "min_ram": i.min_ram,
        "container_format": i.container_format,
        "disk_format": i.disk_format,
        "owner": i.owner,
        "tags": list(i.tags),
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "self": f"/v2/images/{i.id}",
        "file": f"/v2/images/{i.id}/file",
        "schema": "/v2/schemas/image",
    }
    return body


def member(m: Member) -> dict[str, Any]:
    return {
        "image_id": m.image_id,
        "member_id": m.member_id,
        "status": m.status,
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "schema": "/v2/schemas/member",
    }
