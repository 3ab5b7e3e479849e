"""Placing servers on simulated hosts: filter by capacity and extra specs, then spread.

Pure and synchronous: the service holds one :class:`Placement` and calls it between awaits,
so two requests never claim the same room.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ocx.compute.settings import HostConfig

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


@dataclass(frozen=True)
class Need:
    vcpus: int
    ram: int
    disk: int
    extra_specs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, flavor: Mapping[str, object]) -> Need:
        specs = flavor.get("extra_specs") or {}
        assert isinstance(specs, dict)
        return cls(
            int(str(flavor["vcpus"])),
            int(str(flavor["ram"])),
            int(str(flavor["disk"])) + int(str(flavor.get("ephemeral", 0))),
            {str(k): str(v) for k, v in specs.items()},
        )


@dataclass
class Host:
    config: HostConfig
    vcpus: float
    ram: float
    disk: float
    used_vcpus: int = 0
    used_ram: int = 0
    used_disk: int = 0
    servers: int = 0

    @property
    def name(self) -> str:
        return self.config.name

    def fits(self, need: Need) -> bool:
        return (
            self.used_vcpus + need.vcpus <= self.vcpus
            and self.used_ram + need.ram <= self.ram
            and self.used_disk + need.disk <= self.disk
            and offers(self.config, need.extra_specs)
        )

    def claim(self, need: Need, sign: int = 1) -> None:
        self.used_vcpus += sign * need.vcpus
        self.used_ram += sign * need.ram
        self.used_disk += sign * need.disk
        self.servers += sign


def offers(host: HostConfig, specs: Mapping[str, str]) -> bool:
    """Whether ``host`` satisfies every extra spec the scheduler understands.

    ``trait:NAME`` is ``required`` or ``forbidden``; ``hw:NAME=VALUE`` needs the host's
    capability NAME to equal VALUE (case-insensitively). Other namespaces are not scheduling
    hints and are ignored, as Nova's filters ignore specs they do not own.
    """
    for key, value in specs.items():
        if key.startswith("trait:"):
            present = key[len("trait:") :] in host.traits
            if (value == "required" and not present) or (value == "forbidden" and present):
                return False
        elif key.startswith("hw:") and host.capabilities.get(key[3:], "").lower() != value.lower():
            return False
    return True


class Placement:
    def __init__(
        self, hosts: Iterable[HostConfig], cpu_ratio: float, ram_ratio: float, disk_ratio: float
    ):
        self.hosts = {
            h.name: Host(h, h.vcpus * cpu_ratio, h.ram_mb * ram_ratio, h.disk_gb * disk_ratio)
            for h in hosts
        }

    def place(self, need: Need, count: int) -> list[str]:
        """Hosts for up to ``count`` servers (fewer if room runs out), claimed."""
        chosen: list[str] = []
        for _ in range(count):
            fitting = [h for h in self.hosts.values() if h.fits(need)]
            if not fitting:
                break
            best = max(fitting, key=lambda h: (h.ram - h.used_ram, -h.servers, h.name))
            best.claim(need)
            chosen.append(best.name)
        return chosen

    def release(self, host: str | None, need: Need) -> None:
        if host in self.hosts:
            self.hosts[host].claim(need, -1)

    def occupy(self, host: str | None, need: Need) -> None:
        """Account for a server placed before a restart."""
        if host in self.hosts:
            self.hosts[host].claim(need)
