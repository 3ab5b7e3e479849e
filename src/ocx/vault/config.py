"""A vault's configuration, kept by the customer alone: its providers (one per slot), k and
n, the segment size, and the customer's secrets (the manifest signing key and the key that
hides names). The optional wrapping key is kept apart from it (``--wrap-key FILE``)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ocx.vault import crypto
from ocx.vault.errors import VaultConfigError, VaultNotFound
from ocx.vault.providers import Offering
from ocx.vault.store import CONTAINER

MIB = 1024 * 1024
DEFAULT_SEGMENT = MIB
# A share is stored in parts of at most this many fragments (1 GiB of 1 MiB segments at k=1;
# Swift refuses single objects over 5 GiB).
DEFAULT_FRAGMENTS_PER_PART = 1024


@dataclass(frozen=True)
class VaultConfig:
    k: int
    n: int
    providers: tuple[Offering, ...]
    signing_seed: str  # base64 Ed25519 seed
    meta_key: str  # base64
    segment_size: int = DEFAULT_SEGMENT
    fragments_per_part: int = DEFAULT_FRAGMENTS_PER_PART
    container: str = CONTAINER
    reasons: tuple[str, ...] = field(default=())
    min_shares: int = 0  # a write needs this many providers to take it; 0: min(n, k + 1)

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n or len(self.providers) != self.n:
            raise VaultConfigError(f"need 1 <= k <= n and n providers (k={self.k}, n={self.n})")
        owners = {p.owner for p in self.providers}
        if len(owners) != self.n:
            raise VaultConfigError("two providers of one owner: each owner holds one share")
        if not 1024 <= self.segment_size <= 64 * MIB or self.fragments_per_part < 1:
            raise VaultConfigError("segment size must be 1 KiB .. 64 MiB")
        if self.min_shares and not self.k <= self.min_shares <= self.n:
            raise VaultConfigError(f"min shares must be k .. n ({self.k} .. {self.n})")

    @property
    def write_quorum(self) -> int:
        """Providers that must take a version for a write to succeed: by default one more
        than k, so the version survives one further loss while the others are repaired."""
        return self.min_shares or min(self.n, self.k + 1)

    @classmethod
    def new(cls, k: int, providers: tuple[Offering, ...], **kwargs: object) -> VaultConfig:
        return cls(
            k=k,
            n=len(providers),
            providers=providers,
            signing_seed=crypto.b64(crypto.Signer.generate().seed()),
            meta_key=crypto.b64(crypto.new_key()),
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def signer(self) -> crypto.Signer:
        return crypto.Signer.from_seed(crypto.unb64(self.signing_seed))

    @property
    def meta(self) -> bytes:
        return crypto.unb64(self.meta_key)

    def with_provider(self, slot: int, offer: Offering) -> VaultConfig:
        providers = list(self.providers)
        providers[slot] = offer
        return replace(self, providers=tuple(providers))

    def slot_of(self, landlord: str) -> int:
        for slot, offer in enumerate(self.providers):
            if offer.landlord == landlord:
                return slot
        raise VaultConfigError(f"{landlord} holds no share of this vault")


def save(config: VaultConfig, path: Path) -> None:
    """Written whole or not at all, readable by the customer alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vault-")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(config), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> VaultConfig:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise VaultNotFound(f"no vault at {path} (run `ocx vault init` first)") from None
    except ValueError as exc:
        raise VaultConfigError(f"{path} is not a vault configuration: {exc}") from None
    try:
        doc["providers"] = tuple(Offering(**p) for p in doc["providers"])
        doc["reasons"] = tuple(doc.get("reasons", ()))
        return VaultConfig(**doc)
    except (KeyError, TypeError) as exc:
        raise VaultConfigError(f"{path} is not a vault configuration: {exc}") from None


def load_wrap_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    data = path.read_bytes().strip()
    try:
        key = crypto.unb64(data.decode()) if len(data) != crypto.KEY_BYTES else data
    except ValueError:
        raise VaultConfigError(f"{path}: a wrapping key is 32 bytes, raw or base64") from None
    if len(key) != crypto.KEY_BYTES:
        raise VaultConfigError(f"{path}: a wrapping key is 32 bytes, raw or base64")
    return key


def new_wrap_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(crypto.b64(crypto.new_key()) + "\n")
