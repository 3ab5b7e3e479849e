"""Vault test helpers: a live exchange of four object-store landlords of four owners
(harvard, home of alice; mit, stor and vast admit her through K2K), vaults over them, and
a provider turned bad (its stored objects rewritten with the customer's own access there,
as a dishonest landlord could)."""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ocx import clouds
from ocx.runner import Exchange, Running
from ocx.vault import config as vault_config
from ocx.vault.providers import Constraints, Offering, TopologyOfferings, choose
from ocx.vault.store import Store
from ocx.vault.vault import Vault

LANDLORDS: dict[str, Any] = {
    "harvard": {"parts": ["identity", "object"], "demo_users": ["alice"]},
    "mit": {"parts": ["identity", "object"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity", "object"], "trusts": ["harvard"]},
    "vast": {"parts": ["identity", "object"], "trusts": ["harvard"]},
}
SEGMENT = 4096  # small segments: many of them in little data


@dataclass
class World:
    exchange: Exchange
    clouds_file: Path

    def offerings(self) -> list[Offering]:
        source = TopologyOfferings(self.exchange.topology, self.clouds_file, "alice", "harvard")
        return source.object_stores()

    def config(
        self, k: int = 2, landlords: tuple[str, ...] = ("harvard", "mit", "stor"), **kwargs: Any
    ) -> vault_config.VaultConfig:
        offers = {o.landlord: o for o in self.offerings()}
        kwargs.setdefault("segment_size", SEGMENT)
        kwargs.setdefault("container", "vault-" + secrets.token_hex(4))  # a fresh vault
        return vault_config.VaultConfig.new(k, tuple(offers[n] for n in landlords), **kwargs)

    def vault(self, cfg: vault_config.VaultConfig | None = None, **kwargs: Any) -> Vault:
        return Vault.open(cfg or self.config(), self.clouds_file, kwargs.pop("wrap_key", None))

    def running(self, landlord: str, part: str = "object") -> Running:
        return next(r for r in self.exchange.running if (r.landlord, r.part) == (landlord, part))


def data(size: int, seed: int = 7) -> bytes:
    """Bytes that do not compress away, the same for the same seed."""
    return random.Random(seed).randbytes(size)


def put(vault: Vault, name: str, payload: bytes) -> None:
    vault.put(name, io.BytesIO(payload))


def get(vault: Vault, name: str, **kwargs: Any) -> tuple[bytes, list[str]]:
    out = io.BytesIO()
    report = vault.get(name, out, **kwargs)
    return out.getvalue(), [f"{p.landlord}:{p.kind}" for p in report.problems]


def store_of(vault: Vault, landlord: str) -> Store:
    return vault.stores[vault.config.slot_of(landlord)]


@contextmanager
def snapshot(store: Store) -> Iterator[dict[str, bytes]]:
    """Everything the vault keeps at one provider now; restored (and nothing else) at exit:
    a landlord rolling back to an old backup."""
    saved = {name: store.get(name) for name in store.list("")}
    yield saved
    for name in store.list(""):
        if name not in saved:
            store.delete(name)
    for name, body in saved.items():
        store.put(name, body)


def choose_stores(offers: list[Offering], n: int) -> tuple[Offering, ...]:
    return choose(offers, n, Constraints()).chosen


def same_owner(offer: Offering, owner: str) -> Offering:
    return replace(offer, owner=owner)


def write_clouds(exchange: Exchange, path: Path) -> Path:
    return clouds.write(exchange, path)


def stop(world: World, landlord: str) -> None:
    """Stop a landlord's object store at once, dropping its open connections."""
    run = world.running(landlord)
    world.exchange.background.call(_stop(run))  # type: ignore[attr-defined]


async def _stop(run: Running) -> None:
    run.server.should_exit = True
    for server in run.server.servers:
        server.close()
    for connection in list(run.server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()
