"""Cinder's views: how volumes, snapshots, types, attachments and quotas look on the wire."""

from __future__ import annotations

from typing import Any

from ocx.openstack import links as paging
from ocx.volume.caller import iso
from ocx.volume.microversion import Version
from ocx.volume.models import Attachment, Snapshot, Volume, VolumeType


def links(base: str, kind: str, item_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": f"{base}/v3/{kind}/{item_id}"},
        {"rel": "bookmark", "href": f"{base}/{kind}/{item_id}"},
    ]


def next_links(
    base: str, path: str, query: dict[str, str], last_id: str | None
) -> list[dict[str, str]]:
    if last_id is None:
        return []
    return paging.next_links(f"{base}/v3/{path}", query.items(), last_id)


def volume_summary(base: str, row: Volume) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "links": links(base, "volumes", row.id)}


def volume_attachment(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.volume_id,
        "attachment_id": row.id,
        "volume_id": row.volume_id,
        "server_id": row.instance_uuid,
        "host_name": None,
        "device": row.mountpoint,
        "attached_at": iso(row.attached_at),
    }


def volume_detail(
    base: str,
    row: Volume,
    vtype: VolumeType | None,
    attached: list[Attachment],
    version: Version,
    *,
    admin: bool,
    host: str,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "size": row.size,
        "availability_zone": row.availability_zone,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "volume_type": vtype.name if vtype else None,
        "snapshot_id": row.snapshot_id,
        "source_volid": row.source_volid,
        "metadata": dict(row.meta),
        "links": links(base, "volumes", row.id),
        "user_id": row.user_id,
        "bootable": "true" if row.bootable else "false",
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": row.multiattach,
        "attachments": [volume_attachment(a) for a in attached if a.status == "attached"],
        "os-vol-tenant-attr:tenant_id": row.project_id,
        "migration_status": None,
    }
    if version >= (3, 13):
        doc["group_id"] = None
    if version >= (3, 48):
        doc["shared_targets"] = False
        doc["service_uuid"] = None
    if version >= (3, 63):
        doc["volume_type_id"] = row.type_id
    if version >= (3, 64):
        doc["encryption_key_id"] = None
    if version >= (3, 65):
        doc["consumes_quota"] = True
    if admin:
        doc["os-vol-host-attr:host"] = f"{host}@nbd#{vtype.name if vtype else 'default'}"
        doc["os-vol-mig-status-attr:migstat"] = None
        doc["os-vol-mig-status-attr:name_id"] = None
        if version >= (3, 21):
            doc["provider_id"] = None
    return doc


def snapshot(row: Snapshot, version: Version) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "volume_id": row.volume_id,
        "status": row.status,
        "size": row.size,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "metadata": dict(row.meta),
        "os-extended-snapshot-attributes:project_id": row.project_id,
        "os-extended-snapshot-attributes:progress": "100%" if row.status == "available" else "0%",
    }
    if version >= (3, 41):
        doc["user_id"] = row.user_id
    if version >= (3, 65):
        doc["consumes_quota"] = True
    return doc


def volume_type(row: VolumeType, *, admin: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "is_public": row.is_public,
        "os-volume-type-access:is_public": row.is_public,
        "extra_specs": dict(row.extra_specs) if admin else {},
        "qos_specs_id": None,
    }


def connection_info(row: Attachment, host: str) -> dict[str, Any] | None:
    """driver_volume_type ``nbd``: Nova's network-disk keys plus the attachment's PSK."""
    if row.nbd_port is None:
        return None
    hostpart = f"[{host}]" if ":" in host else host
    return {
        "driver_volume_type": "nbd",
        "data": {
            "name": row.volume_id,
            "hosts": [host],
            "ports": [str(row.nbd_port)],
            "uri": f"nbds://{row.psk_identity}@{hostpart}:{row.nbd_port}/{row.volume_id}",
            "tls": "psk",
            "psk_identity": row.psk_identity,
            "psk_key": row.psk_key,
            "access_mode": row.mode,
            "volume_id": row.volume_id,
            "attachment_id": row.id,
            "discard": True,
        },
    }


def attachment_summary(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "instance": row.instance_uuid,
        "volume_id": row.volume_id,
    }


def attachment_detail(row: Attachment, host: str) -> dict[str, Any]:
    return {
        **attachment_summary(row),
        "attached_at": iso(row.attached_at),
        "detached_at": iso(row.detached_at),
        "attach_mode": row.mode,
        "connection_info": connection_info(row, host),
        "connector": row.connector,
    }


def quota_set(
    project_id: str, limits: dict[str, int], used: dict[str, int] | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": project_id}
    for key, limit in sorted(limits.items()):
        if used is None:
            doc[key] = limit
        else:
            doc[key] = {"limit": limit, "in_use": used.get(key, 0), "reserved": 0}
    return doc


def absolute_limits(limits: dict[str, int], used: dict[str, int]) -> dict[str, Any]:
    return {
        "maxTotalVolumes": limits["volumes"],
        "maxTotalSnapshots": limits["snapshots"],
        "maxTotalVolumeGigabytes": limits["gigabytes"],
        "maxTotalBackups": limits["backups"],
        "maxTotalBackupGigabytes": limits["backup_gigabytes"],
        "totalVolumesUsed": used.get("volumes", 0),
        "totalGigabytesUsed": used.get("gigabytes", 0),
        "totalSnapshotsUsed": used.get("snapshots", 0),
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }
