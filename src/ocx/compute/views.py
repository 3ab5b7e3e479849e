"""Nova v2.1 bodies as a given microversion shows them: servers, flavors, keypairs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ocx.common.auth import Principal
from ocx.compute import states
from ocx.compute.microversion import Version
from ocx.compute.models import Flavor, Keypair, Server, VolumeAttachment


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _links(base: str, kind: str, ident: str) -> list[dict[str, str]]:
    root = base.removesuffix("/v2.1")
    return [
        {"rel": "self", "href": f"{base}/{kind}/{ident}"},
        {"rel": "bookmark", "href": f"{root}/{kind}/{ident}"},
    ]


def host_id(project_id: str, host: str | None) -> str:
    """Nova's hostId: who shares a host, without saying which host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def server_summary(s: Server, base: str) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "links": _links(base, "servers", s.id)}


def server(
    s: Server, v: Version, who: Principal, base: str, attachments: list[VolumeAttachment]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        **server_summary(s, base),
        "status": states.status(s.vm_state, s.task_state),
        "tenant_id": s.project_id,
        "user_id": s.user_id,
        "metadata": dict(s.meta),
        "hostId": host_id(s.project_id, s.host),
        "image": _image(s, v, base),
        "flavor": _server_flavor(s, v, base),
        "created": iso(s.created_at),
        "updated": iso(s.updated_at),
        "addresses": s.addresses,
        "accessIPv4": "",
        "accessIPv6": "",
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 100 if s.vm_state == "active" else 0,
        "OS-EXT-AZ:availability_zone": s.availability_zone,
        "config_drive": "",
        "key_name": s.key_name,
        "OS-SRV-USG:launched_at": _usec(s.launched_at),
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": s.task_state,
        "OS-EXT-STS:vm_state": s.vm_state,
        "OS-EXT-STS:power_state": s.power_state,
        "os-extended-volumes:volumes_attached": [_attached(a, v) for a in attachments],
        "security_groups": [{"name": "default"}] if s.addresses else [],
    }
    if s.fault:
        body["fault"] = s.fault
    _versioned(body, s, v, who)
    return body


def _versioned(body: dict[str, Any], s: Server, v: Version, who: Principal) -> None:
    if v.at_least("2.9"):
        body["locked"] = s.locked_by is not None
    if v.at_least("2.16"):
        body["host_status"] = ("UP" if s.host else "") if who.is_admin else None
    if v.at_least("2.19"):
        body["description"] = s.description
    if v.at_least("2.26"):
        body["tags"] = list(s.tags)
    if v.at_least("2.63"):
        body["trusted_image_certificates"] = None
    if v.at_least("2.73"):
        body["locked_reason"] = s.locked_reason
    if who.is_admin:
        body.update(
            {
                "OS-EXT-SRV-ATTR:host": s.host,
                "OS-EXT-SRV-ATTR:hypervisor_hostname": s.host,
                "OS-EXT-SRV-ATTR:instance_name": f"instance-{s.seq:08x}",
            }
        )
        if v.at_least("2.3"):
            body.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": s.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": s.launch_index,
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": s.user_data,
                }
            )
    if v.at_least("2.90") or (who.is_admin and v.at_least("2.3")):
        body["OS-EXT-SRV-ATTR:hostname"] = s.name.lower().replace(" ", "-")[:63]
    if v.at_least("2.96"):
        body["pinned_availability_zone"] = None
    if v.at_least("2.100"):
        body["scheduler_hints"] = dict(s.scheduler_hints)


def _usec(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _attached(a: VolumeAttachment, v: Version) -> dict[str, Any]:
    found: dict[str, Any] = {"id": a.volume_id}
    if v.at_least("2.3"):
        found["delete_on_termination"] = a.delete_on_termination
    return found


def _image(s: Server, v: Version, base: str) -> dict[str, Any] | str:
    if not s.image_id:
        return ""
    image: dict[str, Any] = {"id": s.image_id, "links": _links(base, "images", s.image_id)[1:]}
    if v.at_least("2.98"):
        image["properties"] = dict(s.image_properties)
    return image


def _server_flavor(s: Server, v: Version, base: str) -> dict[str, Any]:
    f = s.flavor
    if not v.at_least("2.47"):
        return {"id": f["id"], "links": _links(base, "flavors", f["id"])[1:]}
    return {
        "vcpus": f["vcpus"],
        "ram": f["ram"],
        "disk": f["disk"],
        "ephemeral": f.get("ephemeral", 0),
        "swap": f.get("swap", 0),
        "original_name": f["original_name"],
        "extra_specs": dict(f.get("extra_specs", {})),
    }


def flavor_snapshot(f: Flavor) -> dict[str, Any]:
    """What a server keeps of its flavor (a later change of the flavor does not touch it)."""
    return {
        "id": f.id,
        "original_name": f.name,
        "vcpus": f.vcpus,
        "ram": f.ram,
        "disk": f.disk,
        "ephemeral": f.ephemeral,
        "swap": f.swap,
        "extra_specs": dict(f.extra_specs),
    }


def flavor(f: Flavor, v: Version, base: str, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f.id, "name": f.name, "links": _links(base, "flavors", f.id)}
    if v.at_least("2.55"):
        body["description"] = f.description
    if not detail:
        return body
    body.update(
        {
            "ram": f.ram,
            "disk": f.disk,
            "vcpus": f.vcpus,
            "swap": f.swap if v.at_least("2.75") else (f.swap or ""),
            "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": f.is_public,
            "rxtx_factor": f.rxtx_factor,
        }
    )
    if v.at_least("2.61"):
        body["extra_specs"] = dict(f.extra_specs)
    return body


def keypair(k: Keypair, v: Version, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": k.name,
        "public_key": k.public_key,
        "fingerprint": k.fingerprint,
    }
    if v.at_least("2.2"):
        body["type"] = k.type
    if full:
        body.update(
            {
                "user_id": k.user_id,
                "id": k.id,
                "created_at": iso(k.created_at),
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
            }
        )
    return body


def attachment(a: VolumeAttachment, v: Version) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serverId": a.server_id,
        "volumeId": a.volume_id,
        "device": a.device,
    }
    if v.at_least("2.89"):
        body["attachment_id"] = a.attachment_id
        body["bdm_uuid"] = a.id
    else:
        body["id"] = a.volume_id
    if v.at_least("2.70"):
        body["tag"] = a.tag
    if v.at_least("2.79"):
        body["delete_on_termination"] = a.delete_on_termination
    return body
