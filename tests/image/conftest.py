"""Image test fixtures: harvard running identity and images, with two customers."""

from __future__ import annotations

import pytest

from ocx.image.part import ImagePart
from tests.conftest import ExchangeFactory
from tests.image.helpers import REGIONS, Cloud, User, start_cloud


@pytest.fixture(params=REGIONS)
def cloud(exchange_factory: ExchangeFactory, request: pytest.FixtureRequest) -> Cloud:
    return start_cloud(exchange_factory, {"image": ImagePart.for_landlord}, region=request.param)


@pytest.fixture
def alice(cloud: Cloud) -> User:
    return cloud.user("alice")


@pytest.fixture
def bob(cloud: Cloud) -> User:
    return cloud.user("bob")
