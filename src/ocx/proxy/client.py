"""The proxy from a customer's side (a Python API): where each container of the combined
account lives, read from the proxy's own merged listing (JSON entries carry ``landlord``).

    from ocx.proxy import client
    found = client.where(client.session_for_cloud("harvard-alice"))
    for placed in found.containers:
        print(placed.container, placed.landlord)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session

from ocx.parts import PROXY_REGION

DEFAULT_CLOUDS = Path(platformdirs.user_data_dir("ocx")) / "clouds.yaml"


@dataclass(frozen=True)
class Placement:
    container: str  # as the combined view names it (qualified if two landlords hold the name)
    landlord: str
    objects: int
    bytes: int


@dataclass(frozen=True)
class Where:
    containers: list[Placement]
    landlords: list[str]  # those that answered
    missing: str  # those that did not, and why ("" when all answered)


def clouds_file() -> Path:
    given = os.environ.get("OS_CLIENT_CONFIG_FILE")
    return Path(given) if given else DEFAULT_CLOUDS


def session_for_cloud(cloud: str, path: Path | None = None) -> ks_session.Session:
    """A keystoneauth1 session for a ``clouds.yaml`` entry (as ``ocx up`` writes them)."""
    doc = yaml.safe_load((path or clouds_file()).read_text()) or {}
    try:
        entry: dict[str, Any] = doc["clouds"][cloud]
    except KeyError:
        raise LookupError(f"no cloud {cloud!r} in {path or clouds_file()}") from None
    loader: Any = loading.get_plugin_loader(entry.get("auth_type", "password"))
    return ks_session.Session(auth=loader.load_from_options(**entry["auth"]))


def proxy_url(session: ks_session.Session, region: str = PROXY_REGION) -> str:
    url = session.get_endpoint(service_type="object-store", interface="public", region_name=region)
    if not url:
        raise LookupError(f"the catalog has no object store in region {region!r}")
    return str(url)


def where(session: ks_session.Session, region: str = PROXY_REGION) -> Where:
    """Every container of the combined account and its landlord, page by page."""
    url = proxy_url(session, region)
    found: list[Placement] = []
    landlords: list[str] = []
    missing = ""
    marker = ""
    while True:
        resp = session.get(url, params={"format": "json", "marker": marker}, raise_exc=True)
        page = resp.json() if resp.status_code == 200 else []
        if not marker:
            landlords = [n.strip() for n in resp.headers.get("x-ocx-landlords", "").split(",")]
            missing = resp.headers.get("x-ocx-missing-landlords", "")
        found += [_placement(entry) for entry in page if "name" in entry]
        if not page:
            return Where(found, [n for n in landlords if n], missing)
        marker = page[-1].get("name") or page[-1].get("subdir")


def _placement(entry: dict[str, Any]) -> Placement:
    return Placement(
        entry["name"], str(entry.get("landlord", "?")), int(entry["count"]), int(entry["bytes"])
    )
