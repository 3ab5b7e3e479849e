"""A ``POST /servers`` body, checked: what Nova's schema refuses is refused here with 400."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ocx.common import errors
from ocx.compute.microversion import Version

KNOWN = {
    "name", "imageRef", "flavorRef", "min_count", "max_count", "networks", "user_data",
    "metadata", "tags", "description", "key_name", "availability_zone",
    "block_device_mapping_v2", "block_device_mapping", "security_groups", "config_drive",
    "adminPass", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig", "hostname",
    "return_reservation_id", "personality", "trusted_image_certificates", "host",
    "hypervisor_hostname", "ocx:image_landlord", "ocx:image_delegation",
}  # fmt: skip
MAX_TAGS = 50


@dataclass
class BootRequest:
    name: str
    flavor_ref: str
    image_ref: str
    min_count: int = 1
    max_count: int = 1
    networks: str = "auto"
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    key_name: str | None = None
    availability_zone: str | None = None
    return_reservation_id: bool = False
    volumes: list[dict[str, Any]] = field(default_factory=list)
    scheduler_hints: dict[str, Any] = field(default_factory=dict)
    # An image of another landlord, read with the customer's delegation (remote_images.py).
    image_landlord: str | None = None
    image_delegation: str | None = None


def parse(doc: Any, v: Version, max_count: int, user_data_max: int) -> BootRequest:
    if not isinstance(doc, dict) or not isinstance(doc.get("server"), dict):
        raise errors.BadRequest('Invalid input: the body must be {"server": {...}}.')
    body: dict[str, Any] = doc["server"]
    unknown = sorted(set(body) - KNOWN)
    if unknown:
        raise errors.BadRequest(
            f"Invalid input for field/attribute server. Value: {body}. Additional properties "
            f"are not allowed ({', '.join(repr(u) for u in unknown)} were unexpected)"
        )
    hints = doc.get("os:scheduler_hints") or doc.get("OS-SCH-HNT:scheduler_hints") or {}
    req = BootRequest(
        name=name(body.get("name")),
        flavor_ref=_ref(body.get("flavorRef"), "flavorRef"),
        image_ref=_ref(body.get("imageRef", ""), "imageRef", empty_ok=True),
        min_count=_count(body.get("min_count", 1), "min_count", max_count),
        max_count=_count(body.get("max_count", body.get("min_count", 1)), "max_count", max_count),
        networks=_networks(body.get("networks"), v),
        user_data=_user_data(body.get("user_data"), user_data_max),
        metadata=metadata(body.get("metadata") or {}),
        tags=_tags(body.get("tags"), v),
        description=_description(body.get("description"), v),
        key_name=_optional_str(body.get("key_name"), "key_name"),
        availability_zone=_optional_str(body.get("availability_zone"), "availability_zone"),
        return_reservation_id=bool(body.get("return_reservation_id", False)),
        volumes=_volumes(body.get("block_device_mapping_v2") or []),
        scheduler_hints=hints if isinstance(hints, dict) else {},
        image_landlord=_optional_str(body.get("ocx:image_landlord"), "ocx:image_landlord"),
        image_delegation=_optional_str(
            body.get("ocx:image_delegation"), "ocx:image_delegation", 8192
        ),
    )
    if (req.image_landlord is None) != (req.image_delegation is None) or (
        req.image_landlord is not None and not req.image_ref
    ):
        raise errors.BadRequest(
            "ocx:image_landlord and ocx:image_delegation come together, with an imageRef."
        )
    if req.min_count > req.max_count:
        raise errors.BadRequest("min_count must be <= max_count")
    if req.volumes and req.max_count > 1:
        raise errors.BadRequest("Cannot attach one or more volumes to multiple instances")
    if not req.image_ref and not req.volumes:
        raise errors.BadRequest("Block Device Mapping is Invalid: You specified more local "
                                "devices than the limit allows")  # fmt: skip
    return req


def name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise errors.BadRequest(
            "Invalid input for field/attribute name: a name is 1 to 255 characters."
        )
    return value


def _ref(value: Any, field_name: str, empty_ok: bool = False) -> str:
    if value is None and empty_ok:
        return ""
    if not isinstance(value, str) or (not value and not empty_ok) or len(value) > 255:
        raise errors.BadRequest(f"Invalid input for field/attribute {field_name}.")
    return value.rstrip("/").rsplit("/", 1)[-1]


def _count(value: Any, field_name: str, limit: int) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise errors.BadRequest(
            f"Invalid input for field/attribute {field_name}: an integer from 1 to {limit}."
        )
    return value


def _networks(value: Any, v: Version) -> str:
    if value is None:
        if v.at_least("2.37"):
            raise errors.BadRequest(
                "Invalid input for field/attribute networks: 'networks' is a required property"
            )
        return "auto"
    if value in ("auto", "none"):
        return str(value)
    if isinstance(value, list):
        if not value:
            return "none" if not v.at_least("2.37") else "auto"
        first = value[0] if isinstance(value[0], dict) else {}
        wanted = first.get("uuid") or first.get("port") or "?"
        raise errors.BadRequest(f"Network {wanted} could not be found.")
    raise errors.BadRequest("Invalid input for field/attribute networks: 'auto', 'none' or a list.")


def _user_data(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise errors.BadRequest(f"User data is not a string of at most {limit} characters.")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.BadRequest("User data needs to be valid base 64.") from exc
    return raw.decode("utf-8", errors="replace")


def metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise errors.BadRequest("Invalid input for field/attribute metadata: an object.")
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= 255:
            raise errors.BadRequest("Metadata keys are strings of 1 to 255 characters.")
        if not isinstance(item, str) or len(item) > 255:
            raise errors.BadRequest(f"Metadata value for {key!r} must be a string <= 255 chars.")
    return dict(value)


def _tags(value: Any, v: Version) -> list[str]:
    if value is None:
        return []
    if not v.at_least("2.52"):
        raise errors.BadRequest("tags at boot need microversion 2.52 or later.")
    return tags(value)


def tags(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise errors.BadRequest(f"Tags are a list of at most {MAX_TAGS} strings.")
    for tag in value:
        check_tag(tag)
    return list(dict.fromkeys(value))


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 0 < len(tag) <= 60 or "," in tag or "/" in tag:
        raise errors.BadRequest(f"Invalid tag {tag!r}: 1 to 60 characters, no ',' or '/'.")
    return tag


def _description(value: Any, v: Version) -> str | None:
    if value is None:
        return None
    if not v.at_least("2.19"):
        raise errors.BadRequest("description needs microversion 2.19 or later.")
    if not isinstance(value, str) or len(value) > 255:
        raise errors.BadRequest("Invalid input for field/attribute description.")
    return value


def _optional_str(value: Any, field_name: str, longest: int = 255) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > longest:
        raise errors.BadRequest(f"Invalid input for field/attribute {field_name}.")
    return value


def _volumes(value: Any) -> list[dict[str, Any]]:
    """The root volume to boot from, if any: ``[{"uuid", "delete_on_termination"}]``.

    Offered: one existing volume of this landlord as the root disk (``source_type`` and
    ``destination_type`` ``volume``, ``boot_index`` 0), what ``openstack server create
    --volume`` sends. Not offered: new volumes made from an image, a snapshot or nothing.
    """
    if not isinstance(value, list):
        raise errors.BadRequest("block_device_mapping_v2 must be a list.")
    found = []
    for bdm in value:
        if not isinstance(bdm, dict):
            raise errors.BadRequest("Each block device mapping is an object.")
        if bdm.get("source_type") == "image" and bdm.get("destination_type", "local") == "local":
            continue  # the image as the root disk: what imageRef already says
        kinds = (bdm.get("source_type"), bdm.get("destination_type"))
        if kinds != ("volume", "volume") or str(bdm.get("boot_index")) != "0":
            raise errors.BadRequest(
                "Only an existing volume as the root disk (source and destination 'volume', "
                "boot_index 0) is offered here; attach other volumes after the boot."
            )
        uuid, keep = bdm.get("uuid"), bdm.get("delete_on_termination", False)
        if not isinstance(uuid, str) or not uuid or not isinstance(keep, bool):
            raise errors.BadRequest("Invalid input for field/attribute block_device_mapping_v2.")
        found.append({"uuid": uuid, "delete_on_termination": keep})
    if len(found) > 1:
        raise errors.BadRequest("A server boots from one root volume.")
    return found
