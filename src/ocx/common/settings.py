"""Typed settings shared by every part: built once from the topology and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ServiceSettings(BaseModel):
    """Where one landlord part lives and keeps its state."""

    model_config = ConfigDict(frozen=True)

    landlord: str
    public_url: str
    database_url: str
    data_dir: Path
    region: str = "RegionOne"


class VerifierSettings(BaseModel):
    """How a service reaches its landlord's identity to verify tokens."""

    model_config = ConfigDict(frozen=True)

    identity_url: str
    audience: str
    revocation_interval: float = 2.0
