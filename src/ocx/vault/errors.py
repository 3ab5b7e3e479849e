"""What goes wrong in the vault, each naming the providers at fault.

    OCXError
    ├── NotFound
    │   └── VaultNotFound        no such name (or no vault configured)
    │       └── VaultDeleted     the name's highest verified version is rm's tombstone
    ├── BadRequest
    │   └── VaultConfigError     the vault's configuration or a choice of providers is unusable
    └── ServiceUnavailable
        ├── NotEnoughShares      fewer than k good shares (or manifests) remain
        └── ProviderFailed       too few providers took a write

A :class:`Problem` is one finding about one provider (``kind`` is one of :data:`KINDS`);
reads and checks return them rather than failing while k good shares remain.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocx.common import errors

# unreachable: no answer; missing: the provider holds nothing for it; stale: an older
# (rolled-back) version; forged: a manifest or key share that the customer did not sign;
# corrupt: bytes whose hash is wrong; truncated: a share shorter than its manifest says;
# swapped: a valid fragment served at the wrong place (another segment or another share).
KINDS = ("unreachable", "missing", "stale", "forged", "corrupt", "truncated", "swapped")


@dataclass(frozen=True)
class Problem:
    landlord: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.landlord}: {self.kind} ({self.detail})"


class VaultNotFound(errors.NotFound):
    pass


class VaultDeleted(VaultNotFound):
    """The name was removed: its highest version verified at >= k providers is a signed
    tombstone (``problems``: providers that still serve an older version, by name)."""

    def __init__(self, what: str, version: int, problems: list[Problem]):
        stale = "".join(f"; {p}" for p in problems)
        super().__init__(f"{what}: not in the vault (deleted at version {version}){stale}")
        self.version, self.problems = version, problems


class VaultConfigError(errors.BadRequest):
    pass


class NotEnoughShares(errors.ServiceUnavailable):
    def __init__(self, what: str, problems: list[Problem]):
        listed = "; ".join(str(p) for p in problems) or "no provider answered"
        super().__init__(f"{what}: fewer than k good shares remain ({listed})")
        self.problems = problems


class ProviderFailed(errors.ServiceUnavailable):
    """Too few providers took a write (``problems``: each one that failed, and why)."""

    def __init__(self, *problems: Problem):
        listed = "; ".join(str(p) for p in problems)
        super().__init__(f"write failed at {listed}")
        self.problems = problems
