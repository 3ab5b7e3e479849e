"""Compute settings: the simulated hosts, their timings, default flavors and quotas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ocx.common.settings import ServiceSettings, VerifierSettings


class HostConfig(BaseModel):
    """One simulated hypervisor: its capacity, and what it offers to flavors' extra specs."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    vcpus: int = Field(64, ge=1)
    ram_mb: int = Field(256 * 1024, ge=1)
    disk_gb: int = Field(2048, ge=1)
    # Traits answer ``trait:NAME=required|forbidden``; capabilities answer ``hw:NAME=VALUE``.
    traits: tuple[str, ...] = ()
    capabilities: dict[str, str] = Field(default_factory=dict)
    zone: str = "nova"


class FlavorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    extra_specs: dict[str, str] = Field(default_factory=dict)


class Timings(BaseModel):
    """How long the simulated hypervisor takes, in seconds (the API answers at once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    boot: float = Field(0.3, ge=0)
    power: float = Field(0.1, ge=0)
    reboot: float = Field(0.2, ge=0)
    rebuild: float = Field(0.3, ge=0)
    # Transitions fall due on this grid (rounded up), so servers booted by many requests
    # within one tick finish together, in one statement, rather than one by one.
    tick: float = Field(0.05, ge=0)


DEFAULT_HOSTS = (HostConfig(name="host-1"), HostConfig(name="host-2"))
DEFAULT_FLAVORS = (
    FlavorConfig(id="1", name="m1.tiny", vcpus=1, ram=512, disk=1),
    FlavorConfig(id="2", name="m1.small", vcpus=1, ram=2048, disk=20),
    FlavorConfig(id="3", name="m1.medium", vcpus=2, ram=4096, disk=40),
    FlavorConfig(id="4", name="m1.large", vcpus=4, ram=8192, disk=80),
)
DEFAULT_QUOTAS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}


class ComputeOptions(BaseModel):
    """What a topology says about one landlord's compute (``[landlords.options.compute]``):
    the simulated hosts it runs, the flavors it sells, and its quota defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    hosts: tuple[HostConfig, ...] = Field(DEFAULT_HOSTS, min_length=1)
    flavors: tuple[FlavorConfig, ...] = DEFAULT_FLAVORS
    # Changes to Nova's default quotas (DEFAULT_QUOTAS), resource by resource; -1 is unlimited.
    quotas: dict[str, int] = Field(default_factory=dict)
    timings: Timings = Timings()

    @model_validator(mode="after")
    def _consistent(self) -> ComputeOptions:
        for what, names in (("host", [h.name for h in self.hosts]),
                            ("flavor id", [f.id for f in self.flavors]),
                            ("flavor name", [f.name for f in self.flavors])):  # fmt: skip
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"each {what} must be unique: {', '.join(repeated)}")
        unknown = sorted(set(self.quotas) - set(DEFAULT_QUOTAS))
        if unknown:
            raise ValueError(f"unknown quotas {unknown}; known: {', '.join(DEFAULT_QUOTAS)}")
        if any(v < -1 for v in self.quotas.values()):
            raise ValueError("a quota is a number >= -1 (-1: unlimited)")
        return self


class ComputeSettings(ServiceSettings):
    verifier: VerifierSettings
    image_url: str | None = None
    # This landlord's own block storage (Cinder v3 URL), if it runs one.
    volume_url: str | None = None
    # The block storage of the other landlords of the topology, by name: the only places this
    # compute attaches a volume from with a delegation (never a URL a customer made up).
    volume_landlords: dict[str, str] = Field(default_factory=dict)
    # The image services of the other landlords, by name: where a boot from another
    # landlord's image reads it with the customer's delegation (ocx.compute.remote_images).
    image_landlords: dict[str, str] = Field(default_factory=dict)
    # The address volume exports see this compute's guests connect from.
    host_ip: str = "127.0.0.1"
    hosts: tuple[HostConfig, ...] = DEFAULT_HOSTS
    flavors: tuple[FlavorConfig, ...] = DEFAULT_FLAVORS
    quotas: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    timings: Timings = Timings()
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
    max_limit: int = 1000
    max_count: int = 10000
    user_data_max: int = 65535
    console_max_bytes: int = 1024 * 1024
