"""The vault's Python API for customers: see :mod:`ocx.vault.vault` and ``docs/vault.md``.

from ocx.clients import vault
cfg = vault.load_config(Path("~/.local/share/ocx/vault.json").expanduser())
with vault.Vault.open(cfg) as v:
    v.put_file(Path("genome.tar"))
"""

from ocx.vault.config import VaultConfig
from ocx.vault.config import load as load_config
from ocx.vault.config import save as save_config
from ocx.vault.errors import NotEnoughShares, Problem, ProviderFailed, VaultNotFound
from ocx.vault.maintenance import migrate, repair, status, verify
from ocx.vault.providers import Constraints, Offering, TopologyOfferings, choose
from ocx.vault.vault import Entry, Report, Vault

__all__ = [
    "Constraints",
    "Entry",
    "NotEnoughShares",
    "Offering",
    "Problem",
    "ProviderFailed",
    "Report",
    "TopologyOfferings",
    "Vault",
    "VaultConfig",
    "VaultNotFound",
    "choose",
    "load_config",
    "migrate",
    "repair",
    "save_config",
    "status",
    "verify",
]
