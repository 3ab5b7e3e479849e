"""Compute test fixtures: harvard running identity, images and compute, with customers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocx.compute.part import ComputePart
from ocx.image.part import ImagePart
from tests.conftest import ExchangeFactory
from tests.image.helpers import REGIONS, Cloud, User, start_cloud


@pytest.fixture(params=REGIONS)
def cloud(exchange_factory: ExchangeFactory, request: pytest.FixtureRequest) -> Cloud:
    parts = {"image": ImagePart.for_landlord, "compute": ComputePart.for_landlord}
    return start_cloud(exchange_factory, parts, region=request.param)


@pytest.fixture
def alice(cloud: Cloud) -> User:
    return cloud.user("alice")


@pytest.fixture
def bob(cloud: Cloud) -> User:
    return cloud.user("bob")


@pytest.fixture
def root(cloud: Cloud) -> User:
    return cloud.user("root", role="admin")


@pytest.fixture
def image_id(alice: User, tmp_path: Path) -> str:
    """An active image alice owns, named ``debian``."""
    source = tmp_path / "debian.raw"
    source.write_bytes(b"\0" * 4096)
    conn = alice.connect()
    return str(conn.image.create_image("debian", filename=str(source), disk_format="raw").id)
