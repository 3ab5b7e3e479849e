"""``clouds.yaml`` for the OpenStack clients.

One entry per landlord (its admin), named after it; one per demo user at home
(``<landlord>-<user>``); and, where a landlord trusts the user's home, one per federation
protocol to reach it (``<user>-<landlord>-k2k`` with OCX's ``v3ocxk2k`` loader,
``<user>-<landlord>-oidc`` with keystoneauth1's ``v3oidcpassword``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml

from ocx.landlord import Landlord
from ocx.parts import PROXY_REGION
from ocx.runner import write_private
from ocx.topology import Topology


class Deployment(Protocol):
    """A started exchange, in one process (:class:`ocx.runner.Exchange`) or many
    (:class:`ocx.supervisor.Supervisor`)."""

    topology: Topology
    landlords: dict[str, Landlord]
    oidc_clients: dict[tuple[str, str], dict[str, str]]


def _cloud(auth_type: str, auth: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "auth_type": auth_type,
        "auth": auth,
        "region_name": region,
        "interface": "public",
        "identity_api_version": 3,
    }


def _home(landlord: Landlord, user: str, password: str) -> dict[str, Any]:
    return {
        "auth_url": landlord.auth_url,
        "username": user,
        "password": password,
        "user_domain_id": "default",
        "project_name": f"{user}-project",
        "project_domain_id": "default",
    }


def _federated(
    home: Landlord, user: str, password: str, sp: Landlord, oidc: dict[str, str] | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    there = {"project_name": f"{home.name}-{user}", "project_domain_name": f"{home.name}-federated"}
    k2k = {
        "auth_url": home.auth_url,
        "username": user,
        "password": password,
        "user_domain_id": "default",
        "home_project_name": f"{user}-project",
        "home_project_domain_id": "default",
        "service_provider_id": sp.name,
        **there,
    }
    entries = {f"{user}-{sp.name}-k2k": ("v3ocxk2k", k2k)}
    if oidc is not None:
        entries[f"{user}-{sp.name}-oidc"] = (
            "v3oidcpassword",
            {
                "auth_url": sp.auth_url,
                "identity_provider": home.name,
                "protocol": "openid",
                "discovery_endpoint": home.identity_url + "/.well-known/openid-configuration",
                "client_id": oidc["client_id"],
                "client_secret": oidc["client_secret"],
                "username": user,
                "password": password,
                "openid_scope": "openid profile",
                **there,
            },
        )
    return entries


def entries(exchange: Deployment) -> dict[str, Any]:
    region = exchange.topology.exchange.region
    clouds: dict[str, Any] = {}
    for landlord in exchange.landlords.values():
        clouds[landlord.name] = _cloud(
            "password",
            {
                "auth_url": landlord.auth_url,
                "username": "admin",
                "password": landlord.admin_password,
                "project_name": "admin",
                "user_domain_id": "default",
                "project_domain_id": "default",
            },
            region,
        )
        for user, password in landlord.demo_passwords.items():
            entry = _cloud("password", _home(landlord, user, password), region)
            if "proxy" in landlord.config.parts:
                # openstacksdk takes --os-region-name ocx only for regions the entry lists.
                entry["regions"] = [region, PROXY_REGION]
            clouds[f"{landlord.name}-{user}"] = entry
    for sp in exchange.landlords.values():
        for idp_name in sp.config.trusts:
            home = exchange.landlords[idp_name]
            oidc = exchange.oidc_clients.get((idp_name, sp.name))
            for user, password in home.demo_passwords.items():
                for name, (auth_type, auth) in _federated(home, user, password, sp, oidc).items():
                    clouds[name] = _cloud(auth_type, auth, region)
    return {"clouds": clouds}


def write(exchange: Deployment, path: Path) -> Path:
    write_private(path, yaml.safe_dump(entries(exchange), sort_keys=False))
    return path
