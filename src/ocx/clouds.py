"""``clouds.yaml`` for the OpenStack clients: one entry per landlord, named after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ocx.runner import Exchange, write_private


def entries(exchange: Exchange) -> dict[str, Any]:
    clouds: dict[str, Any] = {}
    region = exchange.topology.exchange.region
    for landlord in exchange.landlords.values():
        clouds[landlord.name] = {
            "auth": {
                "auth_url": landlord.auth_url,
                "username": "admin",
                "password": landlord.admin_password,
                "project_name": "admin",
                "user_domain_id": "default",
                "project_domain_id": "default",
            },
            "region_name": region,
            "interface": "public",
            "identity_api_version": 3,
        }
    return {"clouds": clouds}


def write(exchange: Exchange, path: Path) -> Path:
    write_private(path, yaml.safe_dump(entries(exchange), sort_keys=False))
    return path
