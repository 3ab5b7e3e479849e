"""Block-storage settings: where volumes live, how exports are served, default quotas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ocx.common.settings import ServiceSettings, VerifierSettings


class TypeSeed(BaseModel):
    """A volume type every start makes sure exists (the landlord's offer)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    extra_specs: dict[str, str] = {}


class Quotas(BaseModel):
    """Cinder's default quotas for a project that has none of its own (-1: unlimited)."""

    model_config = ConfigDict(frozen=True)

    volumes: int = 10
    snapshots: int = 10
    gigabytes: int = 1000
    backups: int = 10
    backup_gigabytes: int = 1000
    groups: int = 10
    per_volume_gigabytes: int = -1


class VolumeSettings(ServiceSettings):
    verifier: VerifierSettings
    # The address the NBD exports listen on and that connection info names.
    data_host: str = "127.0.0.1"
    nbdkit: str = "nbdkit"
    # Connections one attachment's nbdkit accepts at once (nbdcopy opens up to 4).
    max_connections_per_export: int = 8
    # Admit only the connector's address at the export (a kernel socket filter on its
    # listening socket, see ocx.volume.gate), where the connector names one.
    consumer_ip_filter: bool = True
    # Live attachments of one (multiattach) volume, and exports (nbdkit processes) in all.
    max_attachments_per_volume: int = 8
    # An attachment reserved or connecting but not completed this long (or made before this
    # process started, or whose export is gone) no longer holds its volume at the next reserve.
    reservation_ttl: float = 300.0
    max_exports: int = 512
    availability_zone: str = "nova"
    # The landlord's own image service (volumes from images), if it runs one.
    image_url: str | None = None
    quotas: Quotas = Quotas()
    types: tuple[TypeSeed, ...] = ()
    max_volume_gigabytes: int = 16384
