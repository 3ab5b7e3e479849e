"""A federated exchange: harvard and mit are identity providers with demo users; stor has no
users of its own and trusts both."""

from __future__ import annotations

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.identity.service import IdentityService
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory

FEDERATED = {
    "harvard": {"parts": ["identity"], "demo_users": ["alice", "bob"]},
    "mit": {"parts": ["identity"], "demo_users": ["carol"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity"], "trusts": ["harvard", "mit"]},
}


@pytest.fixture
def federated(exchange_factory: ExchangeFactory) -> Exchange:
    return exchange_factory(FEDERATED)


def home_session(exchange: Exchange, landlord: str, user: str) -> ks_session.Session:
    home = exchange.landlords[landlord]
    return ks_session.Session(
        auth=v3.Password(
            auth_url=home.auth_url,
            username=user,
            password=home.demo_passwords[user],
            user_domain_id="default",
            project_name=f"{user}-project",
            project_domain_id="default",
        )
    )


def identity_of(exchange: Exchange, landlord: str) -> IdentityService:
    """The landlord's identity service object (to forge with its real keys in attack tests)."""
    for run in exchange.running:
        if run.landlord == landlord and run.part == "identity":
            service: IdentityService = run.service.service  # type: ignore[attr-defined]
            return service
    raise KeyError(landlord)
