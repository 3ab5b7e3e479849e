"""The three OpenStack APIs the proxy combines, as data: where each is mounted at the proxy,
its catalog type at the landlords, its fault format, and its collections.

A collection is *listed* (merged across landlords, paginated with the proxy's markers),
*gathered* (small: every landlord's whole list, merged, names told apart) or neither, and
its members are found by id at the landlord that holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocx.common.errors import Family
from ocx.proxy.openstack.merge import SortKey

NEWEST = (SortKey("created_at", True), SortKey("id", True))


@dataclass(frozen=True)
class Collection:
    name: str  # the path segment: servers, volumes, images, ...
    key: str  # the list's key in a body: "servers"
    member: str  # one member's key: "server"
    links: str | None  # Nova's/Cinder's "<key>_links"; None for Glance's "next"
    default_sort: tuple[SortKey, ...] = NEWEST
    gathered: bool = False  # small lists: taken whole from every landlord
    zone_field: str | None = None  # the field that names the availability zone
    # Names the same at two landlords are shown as name@landlord (images: a name is how
    # clients find one).
    qualify_names: bool = False


@dataclass(frozen=True)
class Api:
    name: str
    prefix: str  # at the proxy
    catalog_type: str  # at the landlords
    version_path: str  # "/v2.1"; the landlord's endpoint ends with it
    base: str  # the path the collections are under: "/v2.1", "/v3", "/v2"
    family: Family
    microversion_service: str | None  # in OpenStack-API-Version
    collections: tuple[Collection, ...]
    zones: bool  # the API lists availability zones (os-availability-zone)

    def collection(self, name: str) -> Collection | None:
        return next((c for c in self.collections if c.name == name), None)


COMPUTE = Api(
    name="compute",
    prefix="/compute",
    catalog_type="compute",
    version_path="/v2.1",
    base="/v2.1",
    family=Family.NOVA,
    microversion_service="compute",
    collections=(
        Collection(
            "servers",
            "servers",
            "server",
            "servers_links",
            zone_field="OS-EXT-AZ:availability_zone",
        ),
        Collection(
            "flavors",
            "flavors",
            "flavor",
            "flavors_links",
            (SortKey("flavorid", False),),
            gathered=True,
        ),
    ),
    zones=True,
)

VOLUME = Api(
    name="volume",
    prefix="/volume",
    catalog_type="block-storage",
    version_path="/v3",
    base="/v3",
    family=Family.NOVA,
    microversion_service="volume",
    collections=(
        Collection("volumes", "volumes", "volume", "volumes_links", zone_field="availability_zone"),
        Collection("snapshots", "snapshots", "snapshot", "snapshots_links"),
        Collection(
            "types", "volume_types", "volume_type", None, (SortKey("name", False),), gathered=True
        ),
        Collection("attachments", "attachments", "attachment", "attachments_links"),
    ),
    zones=True,
)

IMAGE = Api(
    name="image",
    prefix="/image",
    catalog_type="image",
    version_path="",
    base="/v2",
    family=Family.SWIFT,  # Glance's faults are plain pages, as Swift's
    microversion_service=None,
    collections=(Collection("images", "images", "image", None, qualify_names=True),),
    zones=False,
)

APIS = (COMPUTE, VOLUME, IMAGE)
