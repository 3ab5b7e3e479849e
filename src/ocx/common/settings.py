"""Typed settings shared by every part: built once from the topology and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


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


class ServingLimits(BaseModel):
    """What one part's HTTP server lets a stranger hold (``[exchange.serving]`` in a topology).

    Every timeout is in seconds. A connection that takes longer than ``header_timeout`` to send
    a request's headers, or lets ``body_timeout`` pass without a byte of a body the server is
    ready to read, is closed; past ``max_connections`` open connections a new one is answered
    503 in the part's fault format and closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    keep_alive_timeout: float = Field(5.0, gt=0)
    max_connections: int = Field(2000, ge=1)
    max_header_bytes: int = Field(64 * 1024, ge=1024)
    graceful_shutdown: float = Field(5.0, ge=0)
