"""The table of parts: a new part is one row here.

Each row says what the part is called (the name a topology uses), where it listens within its
landlord's block of ten ports, how it appears in its landlord's service catalog, and which
function builds it. The builder is named as ``"module:attribute"`` and imported only when a
landlord runs that part, so this module imports nothing of OCX: the topology, the runner and
clouds.yaml all read it, and a landlord process loads only the parts it serves.

A builder takes an :class:`ocx.landlord.Landlord` and returns an :class:`ocx.landlord.Part`.
"""

from __future__ import annotations

from dataclasses import dataclass

# The mix-and-match proxy serves the same APIs as the landlords' own services, in a region of
# its own, so unmodified clients reach it by choosing that region.
PROXY_REGION = "ocx"


@dataclass(frozen=True)
class Catalog:
    """One entry in the landlord's service catalog; a region of None is the exchange's."""

    type: str
    name: str
    region: str | None = None
    # The URL's path after the part's base URL, when it is not the part's catalog_path (the
    # proxy serves several APIs, each under its own path).
    path: str | None = None
    # Another part of the same landlord whose base URL this entry is under (the proxy's
    # region lists its landlord's own identity, which clients look for in the region).
    part: str | None = None
    # Listed only when a landlord the customers can reach through this one runs that part
    # (this landlord, or one that trusts it): region ocx lists an API only where one of the
    # customer's landlords serves it, as a cloud's catalog lists only what it runs. A client
    # finding an API in the catalog uses it (`limits show` asks every volume service listed,
    # `volume create` discovers the image service) and fails on one that serves nobody.
    needs: str | None = None


@dataclass(frozen=True)
class PartSpec:
    name: str
    # The port is base_port + 10 * landlord index + port: fixed forever (ports are remembered).
    port: int
    catalog: tuple[Catalog, ...]
    # The builder, "module:attribute" (e.g. "ocx.object.part:ObjectPart.for_landlord"):
    # a Callable[[Landlord], Part].
    builder: str
    # The catalog URL: the part's base URL followed by this (Keystone's $(project_id)s allowed).
    catalog_path: str = ""
    # Why this part must run in one process per landlord (``ocx serve --workers 1``); empty
    # when any number of workers may share its socket, database and data directory.
    one_process: str = ""
    # The pydantic model of what a topology may say about this part of one landlord
    # (``[landlords.options.<part>]``), "module:attribute"; None: the part takes no options.
    # Imported only when a landlord gives options for the part.
    options: str | None = None


PARTS: tuple[PartSpec, ...] = (
    PartSpec(
        "identity",
        0,
        (Catalog("identity", "keystone"),),
        "ocx.identity.part:IdentityPart.for_landlord",
        "/v3",
    ),
    PartSpec(
        "object",
        1,
        (Catalog("object-store", "swift"),),
        "ocx.object.part:ObjectPart.for_landlord",
        "/v1/AUTH_$(project_id)s",
    ),
    PartSpec(
        "proxy",
        2,
        (
            Catalog("object-store", "ocx-proxy", PROXY_REGION, needs="object"),
            Catalog("compute", "ocx-nova", PROXY_REGION, "/compute/v2.1", needs="compute"),
            Catalog("block-storage", "ocx-cinder", PROXY_REGION, "/volume/v3", needs="volume"),
            Catalog("volumev3", "ocx-cinderv3", PROXY_REGION, "/volume/v3", needs="volume"),
            Catalog("image", "ocx-glance", PROXY_REGION, "/image", needs="image"),
            Catalog("identity", "keystone", PROXY_REGION, "/v3", part="identity"),
        ),
        "ocx.proxy.part:ProxyPart.for_landlord",
        "/v1/AUTH_$(project_id)s",
        options="ocx.proxy.settings:ProxyOptions",
    ),
    PartSpec(
        "volume",
        3,
        # Nova's Cinder client looks for volumev3; openstacksdk for block-storage.
        (Catalog("block-storage", "cinder"), Catalog("volumev3", "cinderv3")),
        "ocx.volume.part:VolumePart.for_landlord",
        "/v3",
        one_process=(
            "its NBD exports (one nbdkit per attachment) are children of the process that"
            " made them, and another worker could neither find nor stop them"
        ),
    ),
    PartSpec(
        "image",
        4,
        (Catalog("image", "glance"),),
        "ocx.image.part:ImagePart.for_landlord",
    ),
    PartSpec(
        "compute",
        5,
        (Catalog("compute", "nova"),),
        "ocx.compute.part:ComputePart.for_landlord",
        "/v2.1",
        one_process=(
            "its scheduler's free room, its projects' quota use and its guests (with their"
            " NBD connections) are kept in the memory of one process"
        ),
        options="ocx.compute.settings:ComputeOptions",
    ),
    PartSpec(
        "exchange",
        6,
        (Catalog("exchange", "ocx-exchange"),),
        "ocx.exchange.part:ExchangePart.for_landlord",
    ),
    PartSpec(
        "dashboard",
        7,
        (Catalog("dashboard", "horizon"),),
        "ocx.dashboard.part:DashboardPart.for_landlord",
    ),
)

BY_NAME: dict[str, PartSpec] = {spec.name: spec for spec in PARTS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def spec(name: str) -> PartSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown part {name!r}; known: {', '.join(NAMES)}") from None
